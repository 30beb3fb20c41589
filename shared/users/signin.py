"""Sign-in service: a verified Google identity becomes a user document and a session token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.store.users import Store, User
from shared.users.identity import verify_id_token
from shared.web.sessions import SessionCodec

if TYPE_CHECKING:
    import firebase_admin


def sign_in(
    store: Store, firebase_app: firebase_admin.App, codec: SessionCodec, id_token: str
) -> tuple[User, str]:
    """Verify the ID token, upsert ``users/{uid}`` (nothing secret) and issue a session token."""
    identity = verify_id_token(id_token, firebase_app)
    user = store.upsert_user(
        identity.uid,
        email=identity.email,
        name=identity.name,
        picture=identity.picture,
        now=datetime.now(UTC),
    )
    token = codec.issue(user.uid, email=user.email, name=user.name, picture=user.picture)
    return user, token
