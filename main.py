"""Deploy entry module: every Cloud Functions entry point by name, each imported on first access.

Cloud Functions (functions-framework's ``--target``) loads this file and looks up one name; the
module-level ``__getattr__`` then imports only that function's module from ``functions/``, so an
instance never pays for the imports of the other functions. ``__all__`` lists the entry points
(the deploy reads it without importing anything).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shared.web.http import answer_framework_errors_in_json

if TYPE_CHECKING:
    from functions.accounts import accounts
    from functions.analytics import analytics_snapshot, analytics_snapshot_batch
    from functions.media import media
    from functions.publish_init import publish_init
    from functions.publish_scheduled import publish_scheduled, publish_scheduled_batch
    from functions.publish_status import publish_status
    from functions.refresh_tokens import refresh_batch, refresh_tokens
    from functions.session import session
    from functions.sweep_status import sweep_status
    from functions.tiktok_oauth import tiktok_oauth

# functions-framework executes this module inside the app it serves: from here its own answers
# (paths it cannot route, its crashes) get the JSON error body too.
answer_framework_errors_in_json()

__all__ = [
    "accounts",
    "analytics_snapshot",
    "analytics_snapshot_batch",
    "media",
    "publish_init",
    "publish_scheduled",
    "publish_scheduled_batch",
    "publish_status",
    "refresh_batch",
    "refresh_tokens",
    "session",
    "sweep_status",
    "tiktok_oauth",
]

# Entry point -> the module of functions/ that defines it.
_MODULES = {
    "accounts": "functions.accounts",
    "analytics_snapshot": "functions.analytics",
    "analytics_snapshot_batch": "functions.analytics",
    "media": "functions.media",
    "publish_init": "functions.publish_init",
    "publish_scheduled": "functions.publish_scheduled",
    "publish_scheduled_batch": "functions.publish_scheduled",
    "publish_status": "functions.publish_status",
    "refresh_batch": "functions.refresh_tokens",
    "refresh_tokens": "functions.refresh_tokens",
    "session": "functions.session",
    "sweep_status": "functions.sweep_status",
    "tiktok_oauth": "functions.tiktok_oauth",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    entry_point = getattr(importlib.import_module(module), name)
    globals()[name] = entry_point  # Later lookups skip this function.
    return entry_point


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
