"""When the TikTok client may repeat a call, and how long it waits first.

Only calls that are safe to repeat are retried: reads and revoke on any transient failure; a
refresh only when TikTok provably did nothing (the connection was never made, or a 429, which
TikTok answers before processing the grant); a code exchange never, as a code is single-use.
Backoff is exponential with jitter, and ``Retry-After`` is honoured up to a cap: a longer wait
is the caller's decision, not something to sleep through inside a request.
"""

from __future__ import annotations

import email.utils
import random
import time
from enum import Enum

import httpx

from shared.errors import AppError, DeadlineExceeded, ResourceExhausted, Unavailable

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A Retry-After longer than this is not waited for inside a request: the error goes to the caller.
MAX_RETRY_AFTER = 10.0
# Failures that repeat identically: retrying them only wastes the caller's time.
_FINAL_REASONS = frozenset({"tiktok.malformed_response", "tiktok.unexpected_redirect"})


class Retry(Enum):
    """Which failures a call may be repeated after."""

    NEVER = "never"
    NOT_SENT_OR_429 = "not_sent_or_429"  # TikTok provably did not act
    SAFE = "safe"  # idempotent: any transient failure


def retry_delay(error: AppError, retry: Retry, attempt: int, max_attempts: int) -> float | None:
    """Seconds to wait before the next attempt, or None when the error is final."""
    if retry is Retry.NEVER or attempt >= max_attempts:
        return None
    if not isinstance(error, ResourceExhausted | Unavailable | DeadlineExceeded):
        return None
    if error.reason in _FINAL_REASONS:
        return None
    if retry is Retry.NOT_SENT_OR_429:
        # Only a refused connection or a rate-limit answer proves TikTok did nothing.
        not_sent = isinstance(error.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
        if not (not_sent or isinstance(error, ResourceExhausted)):
            return None
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
    delay = backoff + random.uniform(0, backoff)  # noqa: S311 - jitter, not a secret
    if error.retry_after is not None:
        if error.retry_after > MAX_RETRY_AFTER:
            return None
        delay = max(delay, error.retry_after)
    return min(delay, MAX_RETRY_AFTER)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta or HTTP date), or None when absent or unreadable."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
