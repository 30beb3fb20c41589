"""Pending OAuth states: ``oauth_states/{sha256(state)}`` holds a pending connect: the user it
belongs to, the same-origin path to return to, and ``expire_at`` (10 minutes; a TTL policy deletes
leftovers, and every read treats an expired state as gone). The raw state is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from shared.store.documents import OAuthStateDoc, to_firestore

if TYPE_CHECKING:
    from google.cloud import firestore

OAUTH_STATES = "oauth_states"


@dataclass(frozen=True)
class PendingConnect:
    uid: str
    return_to: str
    expire_at: datetime


class StateInvalid(Exception):
    """The callback's state is unknown, expired, used or another user's; ``why`` says which."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class OAuthStates:
    """The states, for the account store (shared/store/accounts.py) to inherit."""

    db: firestore.Client

    def put_state(self, state_hash: str, pending: PendingConnect, now: datetime) -> None:
        doc: OAuthStateDoc = {
            "uid": pending.uid,
            "return_to": pending.return_to,
            "created_at": now,
            "expire_at": pending.expire_at,
        }
        self.db.collection(OAUTH_STATES).document(state_hash).create(to_firestore(doc))

    def peek_state(self, state_hash: str) -> PendingConnect | None:
        """The pending connect, even if expired or another user's (to choose where to return)."""
        ref = self.db.collection(OAUTH_STATES).document(state_hash)
        data = cast("OAuthStateDoc | None", ref.get().to_dict())
        if data is None:
            return None
        return PendingConnect(data["uid"], data["return_to"], data["expire_at"])

    def consume_state(self, state_hash: str, uid: str, now: datetime) -> PendingConnect:
        """Use the state once: delete it in a transaction and return it, or raise StateInvalid.

        Another user's state is refused without being consumed, so it cannot be burnt by them.
        """
        from google.cloud import firestore

        ref = self.db.collection(OAUTH_STATES).document(state_hash)

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> PendingConnect:
            data = cast("OAuthStateDoc | None", ref.get(transaction=transaction).to_dict())
            if data is None:
                raise StateInvalid("unknown or already used")
            if data["uid"] != uid:
                raise StateInvalid("issued to another user")
            transaction.delete(ref)  # Expired or not, a state is gone once presented.
            return PendingConnect(data["uid"], data["return_to"], data["expire_at"])

        pending: PendingConnect = take(self.db.transaction())
        if pending.expire_at <= now:
            raise StateInvalid("expired")
        return pending
