"""Typed Firestore access: documents in, dataclasses out.

Collections (all written only through the Admin SDK; ``firestore.rules`` denies every client):

- ``users/{uid}``: the signed-in person (uid, email, name, picture, created/last-login times).

Firestore errors are translated here into the project's errors; services never see
``google.api_core`` exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from shared.errors import NotFound

if TYPE_CHECKING:
    from google.cloud import firestore

USERS = "users"


def checked_id(value: str, what: str) -> str:
    """``value`` if Firestore can use it as a document id; else NotFound (no such document exists).

    Ids reach the store from URLs and bodies; one with a ``/`` would address another path.
    """
    if (
        not value
        or "/" in value
        or value in (".", "..")
        or (value.startswith("__") and value.endswith("__"))
        or any("\ud800" <= c <= "\udfff" for c in value)  # not UTF-8: no document has it
        or len(value.encode()) > 1500
    ):
        raise NotFound(f"no {what} {value[:64]!r}")
    return value


def user_is_live(db: firestore.Client, uid: str) -> bool:
    """The user exists and is not being deleted (no deletion's tombstone at ``users/{uid}``)."""
    data = db.collection(USERS).document(uid).get().to_dict()
    return data is not None and "deleting_since" not in data


class LiveUsers:
    """For the stores whose writers create data under a user: whether that user is still there
    (the write-then-re-check of shared/users/deletion.py)."""

    db: firestore.Client

    def user_is_live(self, uid: str) -> bool:
        return user_is_live(self.db, uid)


class UserDoc(TypedDict):
    uid: str
    email: str | None
    name: str | None
    picture: str | None
    created_at: datetime
    last_login_at: datetime


@dataclass(frozen=True)
class User:
    uid: str
    email: str | None
    name: str | None
    picture: str | None
    created_at: datetime
    last_login_at: datetime

    @classmethod
    def from_doc(cls, doc: UserDoc) -> User:
        return cls(
            uid=doc["uid"],
            email=doc.get("email"),
            name=doc.get("name"),
            picture=doc.get("picture"),
            created_at=doc["created_at"],
            last_login_at=doc["last_login_at"],
        )

    def public(self) -> dict[str, str | None]:
        return {"uid": self.uid, "email": self.email, "name": self.name, "picture": self.picture}


class Store:
    """The project's Firestore collections behind typed methods."""

    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def upsert_user(
        self, uid: str, *, email: str | None, name: str | None, picture: str | None, now: datetime
    ) -> User:
        """Create the user on first sign-in, else refresh profile fields and last-login time."""
        from google.cloud import firestore

        ref = self.db.collection(USERS).document(uid)

        @firestore.transactional
        def upsert(transaction: firestore.Transaction) -> UserDoc:
            snapshot = ref.get(transaction=transaction)
            existing: dict[str, Any] = snapshot.to_dict() or {}
            if "deleting_since" in existing:
                # A deletion's tombstone (shared/users/deletion.py): an ID token still valid for
                # the deleted sign-in must not bring the user back before the final sweep.
                from shared.errors import Unauthenticated

                raise Unauthenticated("this account was deleted", reason="user.deleted")
            doc: UserDoc = {
                "uid": uid,
                "email": email,
                "name": name,
                "picture": picture,
                "created_at": existing.get("created_at", now),
                "last_login_at": now,
            }
            transaction.set(ref, dict(doc))
            return doc

        return User.from_doc(upsert(self.db.transaction()))

    def get_user(self, uid: str) -> User | None:
        snapshot = self.db.collection(USERS).document(uid).get()
        data = snapshot.to_dict()
        return User.from_doc(data) if data else None  # type: ignore[arg-type]
