"""Refreshing one account's TikTok tokens: the one code path behind on-demand and scheduled refresh.

Only one refresh of an account runs at a time, across every instance: the refresher holds the
lease ``leases/refresh-<hash of the account path>`` (:mod:`shared.store.leases`). Holding it, it
re-reads
the account, because the snapshot it was given may predate a refresh that just finished; it
refreshes only if the account is still active, still the version it saw and still due.

TikTok rotates the refresh token on every refresh and the previous one stops working
(docs/tiktok-api.md §1.7), so the answer is written before anything else happens: new access/refresh
tokens (vault ciphertext bound to this document and field) and both expiry times computed from
``expires_in`` and ``refresh_expires_in`` of the answer, counted from before the call so they err
early. The data key is made ready before TikTok is called, so a KMS outage cannot lose a rotated
refresh token after TikTok issued it.

Failures: a refresh token TikTok rejects (``tiktok.invalid_grant`` and the other reasons in
:data:`~shared.store.accounts.RECONNECT_REASONS`), an expired one, or one that no longer decrypts
turns the account to ``needs_reconnect`` with the reason, and nothing retries it. Anything else is
transient (timeout, 5xx, 429, KMS unavailable): the tokens stay as they were and the account backs
off (``refresh_retry_at``, doubling per failure in a row, at least TikTok's ``Retry-After``).
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.crypto.vault import VaultError, field_context
from shared.store.accounts import ACTIVE, NEEDS_RECONNECT, RECONNECT_REASONS, Account, AccountStore
from shared.store.leases import Leases, lease_key

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

# Longer than the TikTok client's worst case for one refresh (3 attempts of a 20 s read timeout
# with up to 10 s between them), so a live holder never loses its lease mid-call; short enough
# that a dead holder's account is refreshed again within minutes.
LEASE_TTL = timedelta(minutes=2)
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


@functools.cache
def holder_id() -> str:
    """This instance's name in the leases it takes (for people reading them; never trusted)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Outcome(Enum):
    REFRESHED = "refreshed"
    ALREADY_FRESH = "already_fresh"  # refreshed by someone else meanwhile, or no longer due
    LOCKED = "locked"  # another holder's refresh is running
    BACKING_OFF = "backing_off"  # a transient failure earlier: not before refresh_retry_at
    INACTIVE = "inactive"  # needs_reconnect or revoked: nothing to refresh
    GONE = "gone"  # disconnected meanwhile
    NEEDS_RECONNECT = "needs_reconnect"  # TikTok rejected the refresh token just now
    FAILED = "failed"  # transient failure: tokens untouched, backing off


@dataclass(frozen=True)
class Due:
    """When an account is due: its access token expires within ``access_within``, or its refresh
    token within ``refresh_within``."""

    access_within: timedelta
    refresh_within: timedelta = timedelta(0)

    def __call__(self, account: Account, now: datetime) -> bool:
        return (
            account.access_expires_at <= now + self.access_within
            or account.refresh_expires_at <= now + self.refresh_within
        )


@dataclass(frozen=True)
class RefreshResult:
    outcome: Outcome
    account: Account | None  # as stored after the attempt; None once disconnected
    error: errors.AppError | None = None

    @property
    def reason(self) -> str | None:
        return self.error.reason if self.error else None


def refresh_account(
    store: AccountStore,
    leases: Leases,
    vault: Vault,
    tiktok: TikTokClient,
    seen: Account,
    *,
    due: Due,
    clock: Callable[[], datetime] = utcnow,
    lease_ttl: timedelta = LEASE_TTL,
) -> RefreshResult:
    """Refresh ``seen`` (the account as the caller read it) once, under its lease."""
    lease = leases.acquire(
        lease_key("refresh", seen.path),
        holder=holder_id(),
        subject=seen.path,
        ttl=lease_ttl,
        now=clock(),
    )
    if lease is None:
        return RefreshResult(Outcome.LOCKED, seen)
    try:
        current = store.get(seen.uid, seen.open_id)
        now = clock()
        if current is None:
            return RefreshResult(Outcome.GONE, None)
        if current.status != ACTIVE:
            return RefreshResult(Outcome.INACTIVE, current)
        if current.access_expires_at != seen.access_expires_at or not due(current, now):
            return RefreshResult(Outcome.ALREADY_FRESH, current)
        if current.refresh_retry_at is not None and current.refresh_retry_at > now:
            return RefreshResult(Outcome.BACKING_OFF, current)
        return _refresh_held(store, vault, tiktok, current, clock)
    finally:
        leases.release(lease)


def _refresh_held(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    account: Account,
    clock: Callable[[], datetime],
) -> RefreshResult:
    """Call TikTok and store its answer; the caller holds the lease."""
    started = clock()
    if account.refresh_expires_at <= started:
        dead = errors.FailedPrecondition(
            "the TikTok refresh token has expired", reason="account.refresh_token_expired"
        )
        return _needs_reconnect(store, account, dead, started)
    access_context = field_context(account.path, "access_token")
    refresh_context = field_context(account.path, "refresh_token")
    try:
        refresh_token = vault.decrypt(account.refresh_token_enc, context=refresh_context)
        vault.encrypt("", context=access_context)  # Data key ready before TikTok rotates.
        grant = tiktok.refresh(refresh_token)
    except VaultError as exc:
        return _needs_reconnect(store, account, exc, started)
    except errors.AppError as exc:
        if exc.reason in RECONNECT_REASONS:
            return _needs_reconnect(store, account, exc, started)
        return _back_off(store, account, exc, clock())
    changes: dict[str, Any] = {
        "access_token_enc": vault.encrypt(grant.access_token, context=access_context),
        "refresh_token_enc": vault.encrypt(grant.refresh_token, context=refresh_context),
        "access_expires_at": started + timedelta(seconds=grant.expires_in),
        "refresh_expires_at": started + timedelta(seconds=grant.refresh_expires_in),
        "scopes": list(grant.scopes),
        "refreshed_at": started,
        "updated_at": started,
        "refresh_retry_at": None,
        "refresh_failures": 0,
        "refresh_error": None,
    }
    if not store.update_if_exists(account.uid, account.open_id, changes):
        log.warning("account disconnected during its refresh", extra={"uid": account.uid})
        return RefreshResult(Outcome.GONE, None)
    refreshed = account.replace(
        access_token_enc=changes["access_token_enc"],
        refresh_token_enc=changes["refresh_token_enc"],
        access_expires_at=changes["access_expires_at"],
        refresh_expires_at=changes["refresh_expires_at"],
        scopes=grant.scopes,
        updated_at=started,
        refresh_retry_at=None,
        refresh_failures=0,
    )
    return RefreshResult(Outcome.REFRESHED, refreshed)


def _needs_reconnect(
    store: AccountStore, account: Account, exc: errors.AppError, now: datetime
) -> RefreshResult:
    """The grant is dead: flag the account once; it is never refreshed again until reconnected."""
    changes = {"status": NEEDS_RECONNECT, "status_reason": exc.reason, "updated_at": now}
    store.update_if_exists(account.uid, account.open_id, changes)
    log.warning(
        "tiktok refresh token rejected; account needs reconnecting",
        extra={"uid": account.uid, "reason": exc.reason, "log_id": exc.details.get("log_id")},
    )
    marked = account.replace(status=NEEDS_RECONNECT, status_reason=exc.reason)
    return RefreshResult(Outcome.NEEDS_RECONNECT, marked, exc)


def retry_delay(failures: int, retry_after: float | None) -> timedelta:
    """How long to leave an account alone after ``failures`` transient failures in a row."""
    backoff: timedelta = min(RETRY_CAP, RETRY_BASE * 2 ** min(failures - 1, 16))
    backoff += backoff * random.uniform(0, 0.1)  # noqa: S311 - jitter spreads retries apart
    if retry_after is not None:
        backoff = max(backoff, timedelta(seconds=retry_after))
    return backoff


def _back_off(
    store: AccountStore, account: Account, exc: errors.AppError, now: datetime
) -> RefreshResult:
    failures = account.refresh_failures + 1
    retry_at = now + retry_delay(failures, exc.retry_after)
    changes = {
        "refresh_failures": failures,
        "refresh_retry_at": retry_at,
        "refresh_error": exc.reason or exc.code,
    }
    store.update_if_exists(account.uid, account.open_id, changes)
    log.info(
        "tiktok refresh failed; backing off",
        extra={"uid": account.uid, "reason": exc.reason, "failures": failures},
    )
    backed_off = account.replace(refresh_failures=failures, refresh_retry_at=retry_at)
    return RefreshResult(Outcome.FAILED, backed_off, exc)


def ensure_fresh(
    store: AccountStore,
    leases: Leases,
    vault: Vault,
    tiktok: TikTokClient,
    account: Account,
    *,
    margin: timedelta,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    wait_limit: float = 30.0,
    lease_ttl: timedelta = LEASE_TTL,
) -> Account:
    """``account`` with an access token valid beyond ``margin``: refreshed here, or by the holder
    of its lease while this caller waits (bounded, with backoff) instead of calling TikTok too."""
    deadline = time.monotonic() + wait_limit
    delay = 0.02
    seen = account
    while True:
        result = refresh_account(
            store, leases, vault, tiktok, seen, due=Due(margin), clock=clock, lease_ttl=lease_ttl
        )
        if result.outcome in (Outcome.REFRESHED, Outcome.ALREADY_FRESH):
            assert result.account is not None
            return result.account
        if result.outcome is Outcome.GONE:
            raise errors.NotFound(f"no connected TikTok account {account.open_id!r}")
        if result.outcome in (Outcome.INACTIVE, Outcome.NEEDS_RECONNECT):
            raise errors.FailedPrecondition(
                "this TikTok account must be reconnected", reason="account.needs_reconnect"
            )
        if result.outcome is Outcome.FAILED:
            assert result.error is not None
            raise result.error
        if result.outcome is Outcome.BACKING_OFF:
            raise errors.Unavailable(
                "TikTok refused to refresh this account's token recently; try again later",
                reason="account.refresh_backing_off",
            )
        # LOCKED: another refresh is running. Watch the account until it lands or the lease frees.
        if time.monotonic() >= deadline:
            raise errors.Unavailable(
                "a refresh of this TikTok account is taking too long; try again",
                reason="account.refresh_in_progress",
            )
        sleep(delay)
        delay = min(delay * 2, 0.5)
        current = store.get(account.uid, account.open_id)
        if current is None:
            raise errors.NotFound(f"no connected TikTok account {account.open_id!r}")
        if current.access_expires_at != seen.access_expires_at or current.status != ACTIVE:
            seen = current  # Landed (or failed for good): the next round reports it.
            if current.status == ACTIVE and not Due(margin)(current, clock()):
                return current
