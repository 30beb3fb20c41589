"""One error tree for the whole backend, with canonical codes and one code->HTTP status table.

Services raise these; the HTTP layer turns them into the error body
``{"error": {"code", "message", "reason"?}}`` (docs/architecture.md, request paths). Anything
that is not an :class:`AppError` is a bug and becomes a bare 500.
"""

from __future__ import annotations

from typing import Any

# The one table from canonical code to HTTP status (google.rpc.Code's HTTP mapping, plus the few
# HTTP-only conditions a JSON API must name precisely).
HTTP_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "REQUEST_TIMEOUT": 408,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "INTERNAL": 500,
    "UNKNOWN": 500,
    "NOT_IMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class AppError(Exception):
    """Base of every error the backend reports to a caller.

    ``message`` is shown to the caller, so it never carries a secret; ``reason`` is a stable,
    machine-readable detail (for example ``tiktok.privacy_level_option_mismatch``); ``field`` is
    the dotted path of the request field at fault (``post.caption``), when one is; ``details``
    holds further safe fields for the error body (TikTok's ``log_id``, an expected chunk index).
    """

    code = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        field: str | None = None,
        retry_after: float | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.field = field
        self.retry_after = retry_after
        self.details = details

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.reason:
            error["reason"] = self.reason
        if self.field is not None:
            error["field"] = self.field
        error.update(self.details)
        return {"error": error}


class InvalidArgument(AppError):
    """The request itself is malformed or names a value that can never be right."""

    code = "INVALID_ARGUMENT"


class FailedPrecondition(AppError):
    """The request is well formed but the current state does not allow it."""

    code = "FAILED_PRECONDITION"


class Unauthenticated(AppError):
    """No valid credentials (session cookie, ID token, webhook signature)."""

    code = "UNAUTHENTICATED"


class PermissionDenied(AppError):
    """The caller is known but may not do this (for example a cross-site request)."""

    code = "PERMISSION_DENIED"


class NotFound(AppError):
    """The resource does not exist, or is not the caller's (never tell the difference)."""

    code = "NOT_FOUND"


class MethodNotAllowed(AppError):
    """The path exists but not for this HTTP method."""

    code = "METHOD_NOT_ALLOWED"


class AlreadyExists(AppError):
    """The resource already exists."""

    code = "ALREADY_EXISTS"


class Aborted(AppError):
    """A concurrency conflict: the caller may retry after re-reading the state."""

    code = "ABORTED"


class PayloadTooLarge(AppError):
    """The request body is larger than the route accepts."""

    code = "PAYLOAD_TOO_LARGE"


class RequestTimeout(AppError):
    """The request body did not arrive in time."""

    code = "REQUEST_TIMEOUT"


class UnsupportedMediaType(AppError):
    """The request body has a content type the route does not accept."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class ResourceExhausted(AppError):
    """A rate limit or quota was reached."""

    code = "RESOURCE_EXHAUSTED"


class Unavailable(AppError):
    """A dependency (KMS, TikTok, Firestore) is unreachable or refusing for now."""

    code = "UNAVAILABLE"


class DeadlineExceeded(AppError):
    """A dependency did not answer in time; the outcome may be unknown."""

    code = "DEADLINE_EXCEEDED"


class Internal(AppError):
    """An invariant broke; the caller sees only a generic message."""

    code = "INTERNAL"


class ConfigError(Exception):
    """A setting is missing or malformed; raised at start, naming the setting."""
