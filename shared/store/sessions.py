"""Server-side session records: ``users/{uid}/sessions/{sid}``, one per session cookie.

A session cookie is honoured only while the record it names exists and has not expired, so signing
out (one record deleted), signing out everywhere and account deletion (every record of the user
deleted) end the session on every instance at once. The records live under the user, so "all of a
user's sessions" is one subcollection, and a recursive delete of the user takes them too.
``expire_at`` (the cookie's own expiry) lets a TTL policy remove records nobody signed out of.

A record holds no secret: the cookie's HMAC signature, not the session id, is what cannot be
forged.
"""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from shared.errors import Unauthenticated
from shared.store.documents import SessionDoc, to_firestore
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

SESSIONS = "sessions"
_PAGE = 500

ENDED = "the session has ended (signed out, signed out everywhere, or the account was deleted); "
ENDED += "sign in again"


def new_session_id() -> str:
    """A random, unguessable session id (24 bytes, URL-safe)."""
    return secrets.token_urlsafe(24)


class SessionStore:
    """Create, check and revoke the session records of users."""

    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def _ref(self, uid: str, sid: str) -> Any:
        return self.db.collection(USERS).document(uid).collection(SESSIONS).document(sid)

    def create(self, uid: str, sid: str, *, now: datetime, expire_at: datetime) -> None:
        """Record a new session; the cookie naming ``sid`` is valid from now until ``expire_at``."""
        doc: SessionDoc = {"created_at": now, "expire_at": expire_at}
        self._ref(uid, sid).create(to_firestore(doc))

    def check(self, uid: str, sid: str, *, now: datetime | None = None) -> None:
        """Raise Unauthenticated unless the session is recorded and unexpired (one read)."""
        snapshot = self._ref(uid, sid).get(field_paths=["expire_at"])
        data = cast("SessionDoc | None", snapshot.to_dict() if snapshot.exists else None)
        expire_at = data.get("expire_at") if data else None
        if not isinstance(expire_at, datetime) or expire_at <= (now or datetime.now(UTC)):
            raise Unauthenticated(ENDED)

    def revoke(self, uid: str, sid: str) -> None:
        """End one session (signing out); ending an ended session changes nothing."""
        self._ref(uid, sid).delete()

    def revoke_all(self, uid: str) -> int:
        """End every session of the user; returns how many records were deleted."""
        sessions = self.db.collection(USERS).document(uid).collection(SESSIONS)
        deleted = 0
        while True:
            refs = list(itertools.islice(sessions.list_documents(page_size=_PAGE), _PAGE))
            if not refs:
                return deleted
            batch = self.db.batch()
            for ref in refs:
                batch.delete(ref)
            batch.commit()
            deleted += len(refs)


def revoke_all_sessions(db: firestore.Client, uid: str) -> int:
    """End every session of ``uid`` at once (sign out everywhere, account deletion)."""
    return SessionStore(db).revoke_all(uid)
