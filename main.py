"""Deploy entry module: every Cloud Functions entry point, re-exported from ``functions/``."""

from functions.accounts import accounts
from functions.session import session
from functions.tiktok_oauth import tiktok_oauth

__all__ = ["accounts", "session", "tiktok_oauth"]
