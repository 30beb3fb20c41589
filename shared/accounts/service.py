"""Connected accounts: list them, read fresh creator info, disconnect.

Every call is scoped to the signed-in user: another user's ``open_id`` is simply not found
(promise P4). Disconnect revokes at TikTok first, then deletes the tokens and profile even when
TikTok's revoke fails, and says so (promise P6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from shared import errors
from shared.store.accounts import (
    ACTIVE,
    NEEDS_RECONNECT,
    RECONNECT_REASONS,
    Account,
    AccountStore,
)
from shared.tokens.fresh import fresh_access_token

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.tiktok.client import CreatorInfo, TikTokClient

log = logging.getLogger(__name__)

T = TypeVar("T")


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
    return call_tiktok(store, vault, tiktok, account, tiktok.creator_info, now=now)


def call_tiktok(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    account: Account,
    request: Callable[[str], T],
    *,
    now: datetime,
) -> T:
    """``request`` called with the account's access token, refreshed first when it is about to
    expire; when TikTok answers that the authorization is gone, the account is flagged for
    reconnecting (:func:`mark_if_unusable`) before the error is raised. Every call to TikTok on
    an account's behalf goes through here."""
    token = fresh_access_token(store, vault, tiktok, account, now=now)
    try:
        return request(token)
    except errors.AppError as exc:
        mark_if_unusable(store, account, exc, now)
        raise


def mark_if_unusable(
    store: AccountStore, account: Account, exc: errors.AppError, now: datetime
) -> None:
    """TikTok said the authorization is gone: flag the account so the frontend asks to reconnect.

    Only while it is active and still holds the tokens ``account`` had: a refusal of tokens a
    refresh or reconnect has since replaced says nothing, and a revoked account stays revoked.
    The account may have been disconnected (or the user deleted) while the call ran: then that
    is the answer, a 404 naming it, and nothing is written back.
    """
    if exc.reason not in RECONNECT_REASONS:
        return
    changes = {"status": NEEDS_RECONNECT, "status_reason": exc.reason, "updated_at": now}

    def decide(current: Account) -> dict[str, Any] | None:
        if current.status != ACTIVE or current.token_generation != account.token_generation:
            return None
        return changes

    current, _ = store.update_checked(account.uid, account.open_id, decide)
    if current is None:
        raise errors.NotFound(
            f"TikTok account {account.open_id!r} was disconnected while this request ran",
            reason="account.disconnected",
        ) from exc


# What became of an account's authorization at TikTok when it was disconnected or deleted.
REVOKED_NOW = "revoked"
NOT_NEEDED = "not_needed"  # no tokens left: TikTok had already removed the authorization
REVOKE_FAILED = "failed"


@dataclass(frozen=True)
class Disconnected:
    open_id: str
    tiktok_revoked: str  # REVOKED_NOW, NOT_NEEDED or REVOKE_FAILED

    @property
    def revoked_at_tiktok(self) -> bool:
        return self.tiktok_revoked == REVOKED_NOW


def disconnect(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    open_id: str,
    before_delete: Callable[[Account], object] | None = None,
) -> Disconnected:
    """Revoke at TikTok, then delete tokens and profile whatever TikTok answered.

    ``before_delete`` runs between the two (the account's scheduled posts are cancelled there,
    shared/publishing/scheduled.py): the token is already dead at TikTok, so nothing can be sent
    with it, and if it fails the account is still here for a retry to finish the job."""
    account = get_account(store, uid, open_id)
    revoked = revoke_at_tiktok(vault, tiktok, account)
    if before_delete is not None:
        before_delete(account)
    # The account's analytics snapshots go with it (promise P19); a snapshot stored by a run in
    # flight right now deletes itself when it finds the account gone.
    store.delete(uid, open_id)
    return Disconnected(open_id=open_id, tiktok_revoked=revoked)


def revoke_at_tiktok(vault: Vault, tiktok: TikTokClient, account: Account) -> str:
    """Revoke the account's authorization at TikTok: :data:`REVOKED_NOW`, :data:`NOT_NEEDED`
    (it holds no tokens: TikTok's ``authorization.removed`` deleted them), or
    :data:`REVOKE_FAILED` (logged) when that was not possible.

    KMS being down raises Unavailable and changes nothing, so a retry can still revoke. A token
    that no longer decrypts (VaultError), or TikTok failing or refusing, cannot be helped: the
    caller deletes the connection anyway.
    """
    if not account.access_token_enc:
        return NOT_NEEDED
    try:
        token = account.access_token(vault)
    except errors.Unavailable:
        raise
    except errors.AppError as exc:
        _log_revoke_failure(account.uid, exc)
        return REVOKE_FAILED
    try:
        tiktok.revoke(token)
    except errors.AppError as exc:
        _log_revoke_failure(account.uid, exc)
        return REVOKE_FAILED
    return REVOKED_NOW


def _log_revoke_failure(uid: str, exc: errors.AppError) -> None:
    log.warning(
        "revoke at TikTok failed; deleting the connection anyway",
        extra={"uid": uid, "code": exc.code, "reason": exc.reason},
    )
