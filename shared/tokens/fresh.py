"""Getting a usable TikTok access token for an account.

Every path that calls TikTok on a user's behalf goes through :func:`fresh_access_token`. A token
that expires within :data:`REFRESH_MARGIN` is refreshed first
(:func:`ensure_fresh`, through :func:`shared.tokens.refresh.refresh_account`); concurrent
requests for one account wait for a single refresh instead of each calling TikTok.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import errors
from shared.store.accounts import ACTIVE, Account, AccountStore
from shared.tokens.refresh import LEASE_TTL, Due, Outcome, refresh_account, utcnow

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.leases import Leases
    from shared.tiktok.client import TikTokClient

# Long enough that a token handed out now still works for the TikTok calls of one request (a
# chunked upload included), short enough to rarely refresh ahead of the scheduled job.
REFRESH_MARGIN = timedelta(minutes=5)


def fresh_access_token(
    store: AccountStore, vault: Vault, tiktok: TikTokClient, account: Account, *, now: datetime
) -> str:
    """The account's access token, refreshed first when it expires within the margin."""
    if account.status != ACTIVE:
        raise errors.FailedPrecondition(
            "this TikTok account must be reconnected", reason=f"account.{account.status}"
        )
    if account.access_expires_at <= now + REFRESH_MARGIN:
        try:
            account = ensure_fresh(
                store, store.leases, vault, tiktok, account, margin=REFRESH_MARGIN
            )
        except (errors.Unavailable, errors.ResourceExhausted, errors.DeadlineExceeded):
            # TikTok or KMS is struggling: a token still valid for a while serves this request.
            if account.access_expires_at <= now:
                raise
    return account.access_token(vault)


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
            store,
            leases,
            vault,
            tiktok,
            seen,
            due=Due(margin),
            clock=clock,
            lease_ttl=lease_ttl,
            on_demand=True,
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
            assert result.account is not None
            retry_at = result.account.refresh_user_retry_at or result.account.refresh_retry_at
            wait = (retry_at - clock()).total_seconds() if retry_at else None
            raise errors.Unavailable(
                "TikTok refused to refresh this account's token a moment ago; try again shortly",
                reason="account.refresh_backing_off",
                retry_after=max(1.0, wait) if wait is not None else None,
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
