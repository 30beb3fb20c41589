"""Deploy entry module: every Cloud Functions entry point, re-exported from ``functions/``."""

from functions.session import session

__all__ = ["session"]
