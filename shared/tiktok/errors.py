"""TikTok's error codes and failures translated into the project's error tree (the one table).

TikTok reports failures in two shapes (docs/tiktok-api.md §1.8 and §4.1):

* OAuth endpoints (``/v2/oauth/*``) answer a flat object ``{"error": "invalid_grant",
  "error_description": "…", "log_id": "…"}`` with an undocumented HTTP status, sometimes 200
  (https://developers.tiktok.com/doc/oauth-error-handling), so failure is read from the body.
* Every other v2 API wraps its answer in ``{"data": …, "error": {"code", "message", "log_id"}}``
  and succeeds only when ``error.code == "ok"``, even when HTTP says 200
  (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling).

Every failure becomes an :class:`~shared.errors.AppError` with ``reason="tiktok.<code>"`` and
TikTok's ``log_id`` as a detail. TikTok's 401s (``access_token_invalid``, ``scope_not_authorized``)
are never our ``UNAUTHENTICATED``: the frontend would take them for its own session ending.
Only :mod:`shared.tiktok.client` and this module know what TikTok's errors look like.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shared import logs
from shared.errors import (
    AppError,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from shared.tiktok.retry import retry_after_seconds

# The one table: every documented TikTok error code (docs/tiktok-api.md §1.8, §3.1-3.7, §4.2) to the
# project's error class. Callers branch on ``reason``, never on TikTok's HTTP status.
ERRORS: dict[str, type[AppError]] = {
    # OAuth, flat shape (https://developers.tiktok.com/doc/oauth-error-handling).
    "access_denied": PermissionDenied,  # the user refused consent
    "invalid_client": Internal,  # our client key/secret are wrong: an operator problem
    "invalid_grant": FailedPrecondition,  # code or refresh token dead: account needs_reconnect
    "invalid_request": InvalidArgument,
    "invalid_scope": InvalidArgument,
    "unauthorized_client": PermissionDenied,  # the app is not allowed this grant or scope
    "unsupported_grant_type": Internal,  # a bug in this client
    "unsupported_response_type": Internal,  # a bug in this client
    "server_error": Unavailable,
    "temporarily_unavailable": Unavailable,
    # v2 general codes (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling).
    "access_token_invalid": FailedPrecondition,  # refresh, or reconnect; not OUR session
    "internal_error": Unavailable,
    "invalid_file_upload": InvalidArgument,
    "invalid_params": InvalidArgument,
    "rate_limit_exceeded": ResourceExhausted,
    "scope_not_authorized": PermissionDenied,  # user must re-authorize with the scope
    "scope_permission_missed": PermissionDenied,  # fields asked beyond the granted scopes
    # Content Posting (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post
    # and the upload, photo, status and cancel references). ``invalid_param`` is singular there.
    "invalid_param": InvalidArgument,
    "spam_risk_too_many_posts": FailedPrecondition,
    "spam_risk_user_banned_from_posting": PermissionDenied,
    "spam_risk_too_many_pending_share": FailedPrecondition,
    "reached_active_user_cap": FailedPrecondition,
    "unaudited_client_can_only_post_to_private_accounts": FailedPrecondition,
    "url_ownership_unverified": FailedPrecondition,
    # The user picked a value creator info does not offer: INVALID_ARGUMENT, as in the example
    # error body of docs/architecture.md.
    "privacy_level_option_mismatch": InvalidArgument,
    "app_version_check_failed": FailedPrecondition,
    "invalid_publish_id": NotFound,
    "token_not_authorized_for_specified_publish_id": PermissionDenied,
    "publish_not_cancellable": FailedPrecondition,
}

# An undocumented code is classified by HTTP status; anything else is TikTok misbehaving.
_BY_STATUS: dict[int, type[AppError]] = {
    400: InvalidArgument,
    401: FailedPrecondition,
    403: PermissionDenied,
    404: NotFound,
    429: ResourceExhausted,
}

MAX_MESSAGE = 300
MALFORMED = "malformed_response"


def _safe_message(message: object, fallback: str) -> str:
    """TikTok's message for the caller, with anything credential-shaped removed."""
    if not isinstance(message, str) or not message.strip():
        return fallback
    text = logs.redact(message.strip())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def tiktok_error(
    code: str, message: object, *, status: int, log_id: object = None, response: httpx.Response
) -> AppError:
    """The project's error for TikTok error ``code`` answered with HTTP ``status``."""
    cls = ERRORS.get(code)
    if cls is None:
        cls = Unavailable if status >= 500 else _BY_STATUS.get(status, Internal)
    details: dict[str, Any] = {}
    if isinstance(log_id, str) and log_id:
        details["log_id"] = log_id
    retry_after = retry_after_seconds(response) if cls in (ResourceExhausted, Unavailable) else None
    text = _safe_message(message, f"TikTok refused the request ({code})")
    return cls(text, reason=f"tiktok.{code}", retry_after=retry_after, **details)


def malformed(what: str, response: httpx.Response) -> AppError:
    """TikTok answered something this client cannot read."""
    if response.status_code == 429:
        return ResourceExhausted(
            "TikTok is rate limiting requests",
            reason="tiktok.rate_limit_exceeded",
            retry_after=retry_after_seconds(response),
        )
    if response.status_code >= 500:
        return Unavailable(
            f"TikTok is unavailable (HTTP {response.status_code})",
            reason="tiktok.server_error",
            retry_after=retry_after_seconds(response),
        )
    return Unavailable(
        f"TikTok answered an unreadable {what} (HTTP {response.status_code})",
        reason=f"tiktok.{MALFORMED}",
    )


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def envelope_data(response: httpx.Response) -> dict[str, Any]:
    """``data`` of a v2 envelope that says ``ok``; otherwise raise the translated error.

    Every v2 answer carries an ``error`` object, success included, so only its ``code`` counts
    (docs/tiktok-api.md §8: creator_info's spam answers come with HTTP 200).
    """
    body = json_object(response)
    error = body.get("error") if body is not None else None
    if body is None or not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise malformed("answer", response)
    code: str = error["code"]
    if code != "ok":
        raise tiktok_error(
            code,
            error.get("message"),
            status=response.status_code,
            log_id=error.get("log_id") or error.get("logid"),
            response=response,
        )
    data = body.get("data")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise malformed("answer", response)
    return data


def oauth_failure(response: httpx.Response, body: dict[str, Any] | None) -> AppError | None:
    """The error a ``/v2/oauth/*`` answer reports, or None when it reports none.

    The flat ``error`` string is the signal, whatever the HTTP status; an envelope-shaped
    ``error`` object is accepted too, defensively.
    """
    if body is None:
        return malformed("OAuth answer", response) if response.status_code >= 300 else None
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code")
        if isinstance(code, str) and code and code != "ok":
            return tiktok_error(
                code,
                error.get("message"),
                status=response.status_code,
                log_id=error.get("log_id"),
                response=response,
            )
        return None
    if isinstance(error, str) and error:
        return tiktok_error(
            error,
            body.get("error_description"),
            status=response.status_code,
            log_id=body.get("log_id"),
            response=response,
        )
    if response.status_code >= 300:
        # No error named, but the status says it failed (a proxy's 502, a 429 without a body).
        return malformed("OAuth answer", response)
    return None


def transport_error(exc: httpx.HTTPError, what: str) -> AppError:
    """A timeout or broken connection as the project's error (the caller chains ``from exc``).

    A connect failure proves TikTok never saw the request; any other timeout leaves the outcome
    unknown, which is what DEADLINE_EXCEEDED says.
    """
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return Unavailable(f"TikTok could not be reached ({what})", reason="tiktok.unreachable")
    if isinstance(exc, httpx.TimeoutException):
        return DeadlineExceeded(f"TikTok did not answer in time ({what})", reason="tiktok.timeout")
    return Unavailable(f"The connection to TikTok failed ({what})", reason="tiktok.connection_lost")


# Content Posting: init and chunk upload (docs/tiktok-api.md §3.2-3.5) -----------------------------

INIT_OUTCOME_UNKNOWN = "tiktok.init_outcome_unknown"
_PLAN_FIELDS = ("video_size", "chunk_size", "total_chunk_count")
# The codes a refused body comes back with: only these can be about the chunk plan.
_PLAN_REASONS = frozenset(
    {"tiktok.invalid_param", "tiktok.invalid_params", "tiktok.invalid_file_upload"}
)


def init_transport_error(exc: httpx.HTTPError, what: str) -> AppError:
    """A failed publish init. Only a connect failure (or no free pooled connection) proves the
    request never left; anything later may have created a post, so the caller must not simply
    send it again and gets the distinct reason ``tiktok.init_outcome_unknown``."""
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError | httpx.PoolTimeout):
        return Unavailable(f"TikTok could not be reached ({what})", reason="tiktok.unreachable")
    if isinstance(exc, httpx.TimeoutException):
        return DeadlineExceeded(
            f"TikTok did not answer in time ({what}); the post may or may not exist",
            reason=INIT_OUTCOME_UNKNOWN,
        )
    return Unavailable(
        f"The connection to TikTok failed ({what}); the post may or may not exist",
        reason=INIT_OUTCOME_UNKNOWN,
    )


def init_error(
    error: AppError, response: httpx.Response, source_info: Mapping[str, Any]
) -> AppError:
    """An init refusal made actionable: a refused FILE_UPLOAD plan carries the plan, TikTok's
    message and log_id (docs/tiktok-api.md §9: multi-chunk plans refused since 2026-08); a gateway
    timeout (504) leaves the outcome unknown, like a read timeout."""
    if response.status_code == 504 and isinstance(error, Unavailable | DeadlineExceeded):
        return DeadlineExceeded(
            "TikTok's gateway timed out; the post may or may not exist",
            reason=INIT_OUTCOME_UNKNOWN,
            **error.details,
        )
    if error.reason in _PLAN_REASONS and source_info.get("source") == "FILE_UPLOAD":
        plan = {name: source_info.get(name) for name in _PLAN_FIELDS}
        return InvalidArgument(
            error.message,
            reason=error.reason,
            **error.details,
            **plan,
            tiktok_message=error.message,
        )
    return error


# Chunk PUT answers other than 206/201 (https://developers.tiktok.com/docs/en/
# content-posting-api-media-transfer-guide); 429, 5xx and anything else go through malformed().
_UPLOAD_ANSWERS: dict[int, tuple[type[AppError], str, str]] = {
    400: (InvalidArgument, "upload_rejected", "TikTok refused the chunk (headers or length)"),
    403: (
        FailedPrecondition,
        "upload_url_expired",
        "The upload URL expired (it is valid for 1 hour); start a new post",
    ),
    404: (NotFound, "upload_task_not_found", "TikTok has no upload task for this upload URL"),
    416: (
        FailedPrecondition,
        "upload_range_mismatch",
        "The chunk's range does not match TikTok's upload progress",
    ),
}


def upload_failure(response: httpx.Response, uploaded_bytes: int | None) -> AppError:
    """A chunk that was not accepted. ``uploaded_bytes`` is TikTok's progress from the answer's
    ``Content-Range`` (on 416 it tells whether TikTok already holds this chunk); the upload URL
    never appears in the error."""
    answer = _UPLOAD_ANSWERS.get(response.status_code)
    if answer is None:
        return malformed("chunk answer", response)
    cls, code, text = answer
    body = json_object(response)
    error = body.get("error") if body is not None else None
    details: dict[str, Any] = {}
    if isinstance(error, dict):
        log_id = error.get("log_id") or error.get("logid")
        if isinstance(log_id, str) and log_id:
            details["log_id"] = log_id
        if response.status_code == 400:
            text = _safe_message(error.get("message"), text)
    if response.status_code == 416 and uploaded_bytes is not None:
        details["uploaded_bytes"] = uploaded_bytes
    return cls(text, reason=f"tiktok.{code}", **details)
