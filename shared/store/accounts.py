"""Firestore access for connected TikTok accounts (and, inherited from
shared/store/oauth_states.py, the pending OAuth states of connecting one).

- ``users/{uid}/accounts/{open_id}``: one connected TikTok account: its profile for display,
  granted scopes, status, token expiry times, and the tokens only as vault ciphertext
  (``access_token_enc``, ``refresh_token_enc``, bound to this document path and field).
"""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.crypto.fields import unseal
from shared.store.leases import Leases
from shared.store.oauth_states import OAuthStates
from shared.store.outbox import DISCONNECTED, Outbox, account_change, account_event
from shared.store.query import where
from shared.store.users import USERS, checked_id

if TYPE_CHECKING:
    from google.cloud import firestore

    from shared.crypto.vault import Vault

ACCOUNTS = "accounts"

ACTIVE = "active"
NEEDS_RECONNECT = "needs_reconnect"
REVOKED = "revoked"

# TikTok reasons that mean the stored authorization no longer works: the user must reconnect.
RECONNECT_REASONS = frozenset(
    {"tiktok.access_token_invalid", "tiktok.invalid_grant", "tiktok.scope_not_authorized"}
)

# Profile fields kept for display (promise P6), as TikTok's user/info names them.
PROFILE_FIELDS = (
    "union_id",
    "display_name",
    "username",
    "avatar_url",
    "avatar_url_100",
    "avatar_large_url",
    "bio_description",
    "is_verified",
    "profile_deep_link",
    "profile_web_link",
    "follower_count",
    "following_count",
    "likes_count",
    "video_count",
)
TOKEN_FIELDS = ("access_token", "refresh_token")


def new_token_generation() -> str:
    return uuid.uuid4().hex


def account_path(uid: str, open_id: str) -> str:
    return f"{USERS}/{uid}/{ACCOUNTS}/{checked_id(open_id, 'TikTok account')}"


@dataclass(frozen=True)
class Account:
    uid: str
    open_id: str
    profile: dict[str, Any]
    scopes: tuple[str, ...]
    status: str
    status_reason: str | None
    access_expires_at: datetime
    refresh_expires_at: datetime
    connected_at: datetime
    updated_at: datetime
    access_token_enc: str = field(repr=False)
    refresh_token_enc: str = field(repr=False)
    # Refresh backoff after a transient failure (shared/tokens/refresh.py): no scheduled refresh
    # before ``refresh_retry_at``; ``refresh_failures`` counts failures in a row.
    refresh_retry_at: datetime | None = None
    refresh_failures: int = 0
    # The earliest a user's request may try again after such a failure (a few seconds, or
    # TikTok's Retry-After): the scheduled backoff does not hold back someone waiting.
    refresh_user_retry_at: datetime | None = None
    # Which issue of tokens the account holds: new with every connect and every refresh, never
    # with a re-wrap (the same tokens sealed anew), so a refresh's answer is written only onto
    # the tokens it was made from (shared/tokens/refresh.py). None on accounts stored before it.
    token_generation: str | None = field(default_factory=new_token_generation)
    # The user's analytics setting (off: no snapshots are taken and none are kept), and why the
    # last daily snapshot was skipped (a missing scope), or None.
    analytics_enabled: bool = True
    analytics_reason: str | None = None

    @property
    def path(self) -> str:
        return account_path(self.uid, self.open_id)

    @classmethod
    def from_doc(cls, data: dict[str, Any]) -> Account:
        return cls(
            uid=data["uid"],
            open_id=data["open_id"],
            profile={k: data[k] for k in PROFILE_FIELDS if data.get(k) is not None},
            scopes=tuple(data.get("scopes", ())),
            status=data.get("status", ACTIVE),
            status_reason=data.get("status_reason"),
            access_expires_at=data["access_expires_at"],
            refresh_expires_at=data["refresh_expires_at"],
            connected_at=data["connected_at"],
            updated_at=data["updated_at"],
            access_token_enc=data.get("access_token_enc", ""),
            refresh_token_enc=data.get("refresh_token_enc", ""),
            refresh_retry_at=data.get("refresh_retry_at"),
            refresh_failures=data.get("refresh_failures", 0),
            refresh_user_retry_at=data.get("refresh_user_retry_at"),
            token_generation=data.get("token_generation"),
            analytics_enabled=data.get("analytics_enabled", True),
            analytics_reason=data.get("analytics_reason"),
        )

    def to_doc(self) -> dict[str, Any]:
        doc = {
            "uid": self.uid,
            "open_id": self.open_id,
            **{k: self.profile.get(k) for k in PROFILE_FIELDS},
            "scopes": list(self.scopes),
            "status": self.status,
            "status_reason": self.status_reason,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "connected_at": self.connected_at,
            "updated_at": self.updated_at,
            "access_token_enc": self.access_token_enc,
            "refresh_token_enc": self.refresh_token_enc,
            "refresh_retry_at": self.refresh_retry_at,
            "refresh_failures": self.refresh_failures,
            "refresh_user_retry_at": self.refresh_user_retry_at,
            "token_generation": self.token_generation,
            "analytics_enabled": self.analytics_enabled,
            "analytics_reason": self.analytics_reason,
        }
        return doc

    def public(self) -> dict[str, Any]:
        """What the frontend may see: never a token."""
        return {
            "open_id": self.open_id,
            "display_name": self.profile.get("display_name"),
            "username": self.profile.get("username"),
            "avatar_url": self.profile.get("avatar_url"),
            **{k: v for k, v in self.profile.items() if k not in ("display_name", "username")},
            "status": self.status,
            "status_reason": self.status_reason,
            "scopes": list(self.scopes),
            "access_expires_at": self.access_expires_at.isoformat(),
            "refresh_expires_at": self.refresh_expires_at.isoformat(),
            "connected_at": self.connected_at.isoformat(),
            "analytics_enabled": self.analytics_enabled,
            "analytics_reason": self.analytics_reason,
        }

    def replace(self, **changes: Any) -> Account:
        return dataclasses.replace(self, **changes)

    def access_token(self, vault: Vault) -> str:
        """The account's TikTok access token, decrypted."""
        return unseal(vault, self.path, "access_token", self.access_token_enc)

    def refresh_token(self, vault: Vault) -> str:
        """The account's TikTok refresh token, decrypted."""
        return unseal(vault, self.path, "refresh_token", self.refresh_token_enc)


class AccountStore(OAuthStates):
    """Typed access to accounts and OAuth states."""

    def __init__(self, db: firestore.Client, outbox: Outbox | None = None) -> None:
        self.db = db
        # Every status written here is an event, committed with it (shared/store/outbox.py),
        # and so is the end of a connection (disconnected, or deleted with its user).
        self.outbox = outbox or Outbox(db)

    # Accounts ---------------------------------------------------------------------------------

    def get(self, uid: str, open_id: str) -> Account | None:
        data = self.db.document(account_path(uid, open_id)).get().to_dict()
        return Account.from_doc(data) if data else None

    def list(self, uid: str) -> list[Account]:
        query = self.db.collection(USERS, uid, ACCOUNTS).order_by("connected_at")
        return [Account.from_doc(doc.to_dict() or {}) for doc in query.stream()]

    def save(self, account: Account) -> None:
        """Store the account whole (a connect or reconnect), with the event of its status change
        (a first connect, or back to active from needs_reconnect or revoked) in one transaction."""
        from google.cloud import firestore

        ref = self.db.document(account.path)
        doc = account.to_doc()

        @firestore.transactional
        def put(transaction: firestore.Transaction) -> Any:
            before = ref.get(transaction=transaction).to_dict()
            transaction.set(ref, doc)
            event = account_change(
                account.uid, account.open_id, before.get("status") if before else None, doc
            )
            if event is not None:
                self.outbox.stage(transaction, event)
            return event

        event = put(self.db.transaction())
        if event is not None:
            self.outbox.committed([event])

    def update(self, uid: str, open_id: str, changes: dict[str, Any]) -> None:
        if "status" in changes:  # a status change goes with its event
            self.update_checked(uid, open_id, lambda _: changes)
            return
        self.db.document(account_path(uid, open_id)).update(changes)

    def update_checked(
        self,
        uid: str,
        open_id: str,
        decide: Callable[[Account], dict[str, Any] | None],
        *,
        attempts: int = 5,
    ) -> tuple[Account | None, dict[str, Any] | None]:
        """Write what ``decide`` makes of the account as stored now, and only onto that version.

        The update carries a precondition on the update time read, so a write that raced another
        (a webhook, a refresh, a reconnect) is not applied but decided again on a fresh read.
        Returns the account as last read (None once deleted) and the changes written (None when
        ``decide`` declined or the account is gone).
        """
        from google.api_core import exceptions as gexc

        ref = self.db.document(account_path(uid, open_id))
        for _ in range(attempts):
            snapshot = ref.get()
            data = snapshot.to_dict()
            if not data:
                return None, None
            account = Account.from_doc(data)
            changes = decide(account)
            if changes is None:
                return account, None
            option = self.db.write_option(last_update_time=snapshot.update_time)
            batch = self.db.batch()
            batch.update(ref, changes, option=option)
            try:
                self.outbox.commit(batch, [account_change(uid, open_id, account.status, changes)])
            except gexc.NotFound:
                return None, None
            except (gexc.FailedPrecondition, gexc.Aborted):
                continue
            return account, changes
        raise errors.Aborted(
            "the TikTok account kept changing during the update; try again",
            reason="account.contended",
        )

    def delete(self, uid: str, open_id: str, *, status: str = DISCONNECTED) -> bool:
        """Delete the account with everything stored under it (its analytics snapshots), and
        the event announcing it (``status``: disconnected, or deleted along with its user) in
        the same commit as the account document; False when it was already gone (no event).

        What is stored under the account goes first, so a crash halfway leaves the connection
        in place (and a retry finishes), never an announced deletion with data left behind."""
        from google.api_core import exceptions as gexc

        ref = self.db.document(account_path(uid, open_id))
        for sub in ref.collections():
            self.db.recursive_delete(sub)
        for _ in range(5):
            snapshot = ref.get()
            if not snapshot.exists:
                return False
            batch = self.db.batch()
            batch.delete(ref, option=self.db.write_option(last_update_time=snapshot.update_time))
            try:
                self.outbox.commit(batch, [account_event(uid, open_id, status, None, None)])
            except gexc.NotFound:
                return False
            except (gexc.FailedPrecondition, gexc.Aborted):
                continue
            return True
        raise errors.Aborted(
            "the TikTok account kept changing while it was removed; try again",
            reason="account.contended",
        )

    @property
    def leases(self) -> Leases:
        """The leases that keep one refresh per account at a time."""
        return Leases(self.db)

    # Accounts across users (the scheduled jobs) ------------------------------------------------

    def active_query(self) -> Any:
        """Every active account, ordered for cursor paging (a single-field collection-group
        index, declared in firestore.indexes.json)."""
        return where(self.db.collection_group(ACCOUNTS), "status", "==", ACTIVE).order_by(
            "__name__"
        )

    def expiring_queries(
        self, now: datetime, access_within: timedelta, refresh_within: timedelta
    ) -> builtins.list[Any]:
        """Active accounts whose access token, then whose refresh token, expires within the
        given time, each ordered for cursor paging (indexes in firestore.indexes.json;
        ``tests/unit/test_indexes.py`` checks every query here has its index declared)."""
        return [
            where(
                where(self.db.collection_group(ACCOUNTS), "status", "==", ACTIVE),
                expiry,
                "<=",
                now + within,
            )
            .order_by(expiry)
            .order_by("__name__")
            for expiry, within in (
                ("access_expires_at", access_within),
                ("refresh_expires_at", refresh_within),
            )
        ]

    @staticmethod
    def pages(
        query: Any, page_size: int
    ) -> Iterator[builtins.list[tuple[Account, dict[str, Any]]]]:
        """The accounts ``query`` finds, a page at a time, each with its stored document."""
        cursor = None
        while True:
            page_query = query.limit(page_size)
            if cursor is not None:
                page_query = page_query.start_after(cursor)
            page = list(page_query.stream())
            if page:
                docs = [s.to_dict() or {} for s in page]
                yield [(Account.from_doc(doc), doc) for doc in docs]
            if len(page) < page_size:
                return
            cursor = page[-1]
