"""Getting a usable TikTok access token for an account.

Every path that calls TikTok on a user's behalf goes through :func:`fresh_access_token`. A token
that expires within :data:`REFRESH_MARGIN` is refreshed first
(:func:`shared.tokens.refresh.ensure_fresh`);
concurrent requests for one account wait for a single refresh instead of each calling TikTok.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import errors
from shared.crypto.vault import field_context
from shared.store.accounts import ACTIVE, Account, AccountStore
from shared.store.leases import Leases
from shared.tokens.refresh import ensure_fresh

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
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
                store, Leases(store.db), vault, tiktok, account, margin=REFRESH_MARGIN
            )
        except (errors.Unavailable, errors.ResourceExhausted, errors.DeadlineExceeded):
            # TikTok or KMS is struggling: a token still valid for a while serves this request.
            if account.access_expires_at <= now:
                raise
    return vault.decrypt(
        account.access_token_enc, context=field_context(account.path, "access_token")
    )
