"""Deploy entry module: every Cloud Functions entry point, re-exported from ``functions/``."""

from functions.accounts import accounts
from functions.analytics import analytics_snapshot, analytics_snapshot_batch
from functions.publish_init import publish_init
from functions.publish_status import publish_status
from functions.refresh_tokens import refresh_batch, refresh_tokens
from functions.session import session
from functions.sweep_status import sweep_status
from functions.tiktok_oauth import tiktok_oauth
from shared.web.http import answer_framework_errors_in_json

# functions-framework executes this module inside the app it serves: from here its own answers
# (paths it cannot route, its crashes) get the JSON error body too.
answer_framework_errors_in_json()

__all__ = [
    "accounts",
    "analytics_snapshot",
    "analytics_snapshot_batch",
    "publish_init",
    "publish_status",
    "refresh_batch",
    "refresh_tokens",
    "session",
    "sweep_status",
    "tiktok_oauth",
]
