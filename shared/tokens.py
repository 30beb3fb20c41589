"""Getting a usable TikTok access token for an account.

Every path that calls TikTok on a user's behalf goes through :func:`fresh_access_token`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared import errors
from shared.accounts_store import ACTIVE, Account, AccountStore
from shared.vault import field_context

if TYPE_CHECKING:
    from shared.tiktok import TikTokClient
    from shared.vault import Vault


def fresh_access_token(
    store: AccountStore, vault: Vault, tiktok: TikTokClient, account: Account, *, now: datetime
) -> str:
    """The account's access token, or a clear refusal when it cannot be used."""
    if account.status != ACTIVE:
        raise errors.FailedPrecondition(
            "this TikTok account must be reconnected", reason=f"account.{account.status}"
        )
    if account.access_expires_at <= now:
        raise errors.FailedPrecondition(
            "the TikTok access token has expired and was not refreshed yet",
            reason="account.token_expired",
        )
    return vault.decrypt(
        account.access_token_enc, context=field_context(account.path, "access_token")
    )
