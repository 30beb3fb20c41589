"""Sign-in service: a verified Google identity becomes a user document, a session record and a
session token naming that record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared.store.sessions import SessionStore, new_session_id
from shared.store.users import Store, User
from shared.users.identity import verify_id_token
from shared.web.sessions import SessionCodec

if TYPE_CHECKING:
    import firebase_admin


def sign_in(
    store: Store,
    sessions: SessionStore,
    firebase_app: firebase_admin.App,
    codec: SessionCodec,
    id_token: str,
) -> tuple[User, str]:
    """Verify the ID token, upsert ``users/{uid}`` (nothing secret), record a new session and
    issue its token; the session ends when the record is revoked or expires, whichever is first."""
    identity = verify_id_token(id_token, firebase_app)
    now = datetime.now(UTC)
    user = store.upsert_user(
        identity.uid, email=identity.email, name=identity.name, picture=identity.picture, now=now
    )
    sid = new_session_id()
    expire_at = now + timedelta(seconds=codec.ttl_seconds)
    sessions.create(user.uid, sid, now=now, expire_at=expire_at)
    token = codec.issue(
        user.uid,
        sid=sid,
        email=user.email,
        name=user.name,
        picture=user.picture,
        now=now.timestamp(),
        expires_at=int(expire_at.timestamp()),
    )
    return user, token
