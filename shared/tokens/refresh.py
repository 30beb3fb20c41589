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
early. The encryptions of the answer are reserved (:meth:`~shared.crypto.vault.Vault.reserve`)
before TikTok is called, so a KMS outage cannot lose a rotated refresh token after TikTok issued it.

Every write of an attempt's outcome is fenced on the account as stored
(:meth:`~shared.store.accounts.AccountStore.update_checked`): it lands only while the account
still holds the tokens the attempt started from and was not revoked meanwhile (see
``_refresh_held`` for why the fence is the token, not the lease).

Failures: a refresh token TikTok rejects (``tiktok.invalid_grant`` and the other reasons in
:data:`~shared.store.accounts.RECONNECT_REASONS`), an expired one, or one that no longer decrypts
turns the account to ``needs_reconnect`` with the reason, and nothing retries it. Anything else is
transient (timeout, 5xx, 429, KMS unavailable): the tokens stay as they were and the scheduled
job backs off (``refresh_retry_at``, doubling per failure in a row, at least TikTok's
``Retry-After``), while a user's request may try again after a few seconds
(``refresh_user_retry_at``), one at a time per account.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.crypto.fields import seal
from shared.crypto.vault import VaultError
from shared.store.accounts import (
    ACTIVE,
    NEEDS_RECONNECT,
    RECONNECT_REASONS,
    REVOKED,
    Account,
    AccountStore,
    new_token_generation,
)
from shared.store.leases import Leases, lease_key

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

# The TikTok client's worst case for one refresh: 3 attempts of a 5 s connect and 20 s read
# timeout with up to 10 s between them.
TIKTOK_WORST_CASE = timedelta(seconds=95)
# Longer than that, so a live holder never loses its lease mid-call; short enough that a dead
# holder's account is refreshed again within minutes.
LEASE_TTL = timedelta(minutes=2)
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
# After a transient failure, how long a user's request waits before it may try once more.
USER_RETRY_GAP = timedelta(seconds=5)
# Why an account may have been marked needs_reconnect from a refusal of tokens that a successful
# refresh has since replaced (which lifts the mark); a missing scope is not among them.
STALE_TOKEN_REASONS = frozenset(
    {"tiktok.invalid_grant", "tiktok.access_token_invalid", "account.refresh_token_expired"}
)


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
    on_demand: bool = False,
) -> RefreshResult:
    """Refresh ``seen`` (the account as the caller read it) once, under its lease.

    ``on_demand`` is a user's request waiting for the token: after a transient failure it may try
    again once ``refresh_user_retry_at`` has passed, although the scheduled backoff still runs.
    """
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
        if _backing_off(current, now, on_demand=on_demand):
            return RefreshResult(Outcome.BACKING_OFF, current)
        return _refresh_held(store, vault, tiktok, current, clock)
    finally:
        leases.release(lease)


def _backing_off(account: Account, now: datetime, *, on_demand: bool) -> bool:
    if account.refresh_retry_at is None or account.refresh_retry_at <= now:
        return False
    if not on_demand:
        return True
    # A user is waiting: TikTok may well be back (the schedule's backoff runs to an hour), so try,
    # at most once per account every few seconds (the lease makes it one request at a time).
    return account.refresh_user_retry_at is not None and account.refresh_user_retry_at > now


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
    try:
        refresh_token = account.refresh_token(vault)
        # Both encryptions of the answer are reserved before TikTok rotates the refresh token:
        # a KMS outage stops the refresh here, not after TikTok has issued tokens we then cannot
        # store (a data key that would age out during the call is replaced first).
        sealer = vault.reserve(2, hold=TIKTOK_WORST_CASE.total_seconds())
        grant = tiktok.refresh(refresh_token)
    except VaultError as exc:
        return _needs_reconnect(store, account, exc, started)
    except errors.AppError as exc:
        if exc.reason in RECONNECT_REASONS:
            return _needs_reconnect(store, account, exc, started)
        return _back_off(store, account, exc, clock())
    tokens: dict[str, Any] = {
        "access_token_enc": seal(sealer, account.path, "access_token", grant.access_token),
        "refresh_token_enc": seal(sealer, account.path, "refresh_token", grant.refresh_token),
        "access_expires_at": started + timedelta(seconds=grant.expires_in),
        "refresh_expires_at": started + timedelta(seconds=grant.refresh_expires_in),
        "scopes": list(grant.scopes),
        "refreshed_at": started,
        "updated_at": started,
        "refresh_retry_at": None,
        "refresh_failures": 0,
        "refresh_user_retry_at": None,
        "refresh_error": None,
        "token_generation": new_token_generation(),
    }

    # The write is fenced on the account, not on the lease. TikTok rotates the refresh token on
    # every successful refresh and the previous one stops working, so of all the refreshes made
    # with one refresh token only one can succeed, and its answer holds the only tokens that
    # still work. Had we lost the lease mid-call (a call slower than the lease), the instance that
    # took it over refreshes with the token we just rotated and is refused: dropping our answer
    # because the lease is gone would leave the account with dead tokens. So the answer is stored
    # whenever the account still holds the tokens it was made from (the same token generation:
    # a re-wrap meanwhile re-sealed the same tokens and does not count; the instance refused
    # meanwhile then finds newer tokens stored and drops its refusal, see ``_settle``), and never
    # onto an account revoked meanwhile (its authorization is gone at TikTok, these tokens with
    # it) or one whose tokens were replaced (a reconnect). A needs_reconnect recorded meanwhile
    # from a refusal of the old tokens is contradicted by this answer and lifted.
    def decide(current: Account) -> dict[str, Any] | None:
        if current.status == REVOKED or current.token_generation != account.token_generation:
            return None
        if current.status == NEEDS_RECONNECT and current.status_reason in STALE_TOKEN_REASONS:
            return {**tokens, "status": ACTIVE, "status_reason": None}
        return tokens

    current, written = store.update_checked(account.uid, account.open_id, decide)
    if current is None:
        log.warning("account disconnected during its refresh", extra={"uid": account.uid})
        return RefreshResult(Outcome.GONE, None)
    if written is None:
        log.warning(
            "refresh answer not stored: the account changed meanwhile",
            extra={"uid": account.uid, "status": current.status},
        )
        return _settle(current)
    refreshed = current.replace(
        access_token_enc=tokens["access_token_enc"],
        refresh_token_enc=tokens["refresh_token_enc"],
        access_expires_at=tokens["access_expires_at"],
        refresh_expires_at=tokens["refresh_expires_at"],
        scopes=grant.scopes,
        status=written.get("status", current.status),
        status_reason=written.get("status_reason", current.status_reason),
        updated_at=started,
        refresh_retry_at=None,
        refresh_failures=0,
        refresh_user_retry_at=None,
        token_generation=tokens["token_generation"],
    )
    return RefreshResult(Outcome.REFRESHED, refreshed)


def _still_current(seen: Account, changes: dict[str, Any]) -> Callable[[Account], Any]:
    """A decision for :meth:`AccountStore.update_checked` writing ``changes`` only while the
    account is active and holds the tokens the attempt used."""

    def decide(current: Account) -> dict[str, Any] | None:
        if current.status != ACTIVE or current.token_generation != seen.token_generation:
            return None
        return changes

    return decide


def _settle(current: Account) -> RefreshResult:
    """The result of an attempt overtaken by a change to the account (its write was dropped)."""
    if current.status != ACTIVE:
        return RefreshResult(Outcome.INACTIVE, current)
    return RefreshResult(Outcome.ALREADY_FRESH, current)


def _needs_reconnect(
    store: AccountStore, account: Account, exc: errors.AppError, now: datetime
) -> RefreshResult:
    """The grant is dead: flag the account once; it is never refreshed again until reconnected."""
    changes = {"status": NEEDS_RECONNECT, "status_reason": exc.reason, "updated_at": now}
    current, written = store.update_checked(
        account.uid, account.open_id, _still_current(account, changes)
    )
    if current is None:
        return RefreshResult(Outcome.GONE, None)
    if written is None:
        # Revoked meanwhile, or a newer refresh token was stored: this refusal was of a token
        # that is no longer ours, and says nothing about the account.
        return _settle(current)
    log.warning(
        "tiktok refresh token rejected; account needs reconnecting",
        extra={"uid": account.uid, "reason": exc.reason, "log_id": exc.details.get("log_id")},
    )
    marked = current.replace(status=NEEDS_RECONNECT, status_reason=exc.reason)
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
    user_retry_at = now + max(USER_RETRY_GAP, timedelta(seconds=exc.retry_after or 0))
    changes = {
        "refresh_failures": failures,
        "refresh_retry_at": retry_at,
        "refresh_user_retry_at": user_retry_at,
        "refresh_error": exc.reason or exc.code,
    }
    current, written = store.update_checked(
        account.uid, account.open_id, _still_current(account, changes)
    )
    if current is None:
        return RefreshResult(Outcome.GONE, None)
    if written is None:
        return _settle(current)
    log.info(
        "tiktok refresh failed; backing off",
        extra={"uid": account.uid, "reason": exc.reason, "failures": failures},
    )
    backed_off = current.replace(
        refresh_failures=failures, refresh_retry_at=retry_at, refresh_user_retry_at=user_retry_at
    )
    return RefreshResult(Outcome.FAILED, backed_off, exc)
