"""Firestore outages as the project's error: 503 ``UNAVAILABLE`` with ``Retry-After``.

The Firestore client raises ``google.api_core.exceptions`` errors (``ServiceUnavailable``,
``DeadlineExceeded``, ``RetryError`` once its bounded retries are spent: shared/store/client.py)
or raw ``grpc.RpcError``s; a transaction that fails that way may surface as a follow-up error
(its rollback finding no transaction) with the outage as its context. :func:`outage_error`
recognises all of them, so the HTTP edge answers 503 instead of a bare 500 and no service ever
catches a Google exception (third-party errors are translated at the edge). The scheduled jobs'
edge is each account's work: :func:`as_app_error` lets one account's outage count as that
account's failure instead of ending the whole batch. Nothing else is translated: any other
exception stays a bug, a 500 (or a failed Pub/Sub delivery) logged with its trace.
"""

from __future__ import annotations

from shared import errors

RETRY_AFTER_SECONDS = 5
_CHAIN_LIMIT = 8  # how far along __cause__/__context__ to look


def outage_error(exc: BaseException) -> errors.Unavailable | None:
    """The 503 to answer when ``exc`` (or what caused it) is an unreachable or slow Firestore."""
    current: BaseException | None = exc
    for _ in range(_CHAIN_LIMIT):
        if current is None:
            break
        if _is_outage(current):
            return errors.Unavailable(
                "the database is unavailable right now; try again in a few seconds",
                reason="store.unavailable",
                retry_after=RETRY_AFTER_SECONDS,
            )
        current = current.__cause__ or current.__context__
    return None


def as_app_error(exc: Exception) -> errors.AppError | None:
    """``exc`` as the project's error: itself if it is one, a Firestore outage as its 503, else
    None (a bug, which the caller re-raises)."""
    if isinstance(exc, errors.AppError):
        return exc
    return outage_error(exc)


def _is_outage(exc: BaseException) -> bool:
    # Imported here: only a failing request pays for them (they are loaded with Firestore anyway).
    import grpc
    from google.api_core import exceptions as google

    if isinstance(exc, (google.ServiceUnavailable, google.DeadlineExceeded, google.RetryError)):
        return True
    if isinstance(exc, grpc.RpcError) and isinstance(exc, grpc.Call):
        return exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    return False
