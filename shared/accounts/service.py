"""Connected accounts: list them, read fresh creator info, disconnect.

Every call is scoped to the signed-in user: another user's ``open_id`` is simply not found
(promise P4). Disconnect revokes at TikTok first, then deletes the tokens and profile even when
TikTok's revoke fails, and says so (promise P6).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shared import errors
from shared.crypto.vault import field_context
from shared.store.accounts import NEEDS_RECONNECT, RECONNECT_REASONS, Account, AccountStore
from shared.tokens.fresh import fresh_access_token

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.tiktok.client import CreatorInfo, TikTokClient

log = logging.getLogger(__name__)


def get_account(store: AccountStore, uid: str, open_id: str) -> Account:
    account = store.get(uid, open_id)
    if account is None:
        raise errors.NotFound(f"no connected TikTok account {open_id!r}")
    return account


def list_accounts(store: AccountStore, uid: str) -> list[Account]:
    return store.list(uid)


def creator_info(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    open_id: str,
    now: datetime,
) -> CreatorInfo:
    """Fresh creator info for the "Post to TikTok" page (never cached: TikTok's UX rule)."""
    account = get_account(store, uid, open_id)
    token = fresh_access_token(store, vault, tiktok, account, now=now)
    try:
        return tiktok.creator_info(token)
    except errors.AppError as exc:
        mark_if_unusable(store, account, exc, now)
        raise


def mark_if_unusable(
    store: AccountStore, account: Account, exc: errors.AppError, now: datetime
) -> None:
    """TikTok said the authorization is gone: flag the account so the frontend asks to reconnect."""
    if exc.reason in RECONNECT_REASONS:
        store.update(
            account.uid,
            account.open_id,
            {"status": NEEDS_RECONNECT, "status_reason": exc.reason, "updated_at": now},
        )


@dataclass(frozen=True)
class Disconnected:
    open_id: str
    revoked_at_tiktok: bool


def disconnect(
    store: AccountStore, vault: Vault, tiktok: TikTokClient, *, uid: str, open_id: str
) -> Disconnected:
    """Revoke at TikTok, then delete tokens and profile whatever TikTok answered."""
    account = get_account(store, uid, open_id)
    revoked = revoke_at_tiktok(vault, tiktok, account)
    store.delete(uid, open_id)
    # The account's analytics snapshots go with it (promise P19); a snapshot stored by a run in
    # flight right now deletes itself when it finds the account gone.
    from shared.store.analytics import AnalyticsStore

    AnalyticsStore(store.db).delete_all(uid, open_id)
    return Disconnected(open_id=open_id, revoked_at_tiktok=revoked)


def revoke_at_tiktok(vault: Vault, tiktok: TikTokClient, account: Account) -> bool:
    """Revoke the account's authorization at TikTok; False (logged) when that was not possible.

    KMS being down raises Unavailable and changes nothing, so a retry can still revoke. A token
    that no longer decrypts (VaultError), or TikTok failing or refusing, cannot be helped: the
    caller deletes the connection anyway.
    """
    try:
        token = vault.decrypt(
            account.access_token_enc, context=field_context(account.path, "access_token")
        )
    except errors.Unavailable:
        raise
    except errors.AppError as exc:
        _log_revoke_failure(account.uid, exc)
        return False
    try:
        tiktok.revoke(token)
    except errors.AppError as exc:
        _log_revoke_failure(account.uid, exc)
        return False
    return True


def _log_revoke_failure(uid: str, exc: errors.AppError) -> None:
    log.warning(
        "revoke at TikTok failed; deleting the connection anyway",
        extra={"uid": uid, "code": exc.code, "reason": exc.reason},
    )
