"""Google sign-in against the real Auth and Firestore emulators (promise P1)."""

from __future__ import annotations

import time

import pytest

from emulator.stack import Stack
from shared import runtime
from shared.errors import Unauthenticated
from shared.store.users import USERS, Store
from shared.users.signin import sign_in
from tests.support import AuthEmulator

pytestmark = pytest.mark.emulators


def do_sign_in(id_token: str) -> tuple[object, str]:
    return sign_in(
        Store(runtime.firestore_client()),
        runtime.session_store(),
        runtime.firebase_app(),
        runtime.session_codec(),
        id_token,
    )


def test_user_document_holds_profile_and_times_and_nothing_secret(
    auth_emulator: AuthEmulator,
) -> None:
    google = auth_emulator.sign_in_with_google(email="ann@example.com", name="Ann")
    _user, token = do_sign_in(google["idToken"])

    snapshot = runtime.firestore_client().collection(USERS).document(google["localId"]).get()
    stored = snapshot.to_dict()
    assert stored is not None
    assert set(stored) == {"uid", "email", "name", "picture", "created_at", "last_login_at"}
    assert stored["uid"] == google["localId"]
    assert stored["email"] == "ann@example.com"
    assert stored["name"] == "Ann"
    assert stored["picture"] == "https://example.com/casey.png"
    assert google["idToken"] not in str(stored)
    assert token not in str(stored)
    assert runtime.session_codec().verify(token).uid == google["localId"]


def test_second_sign_in_keeps_creation_time_and_updates_profile(
    auth_emulator: AuthEmulator,
) -> None:
    first = auth_emulator.sign_in_with_google(email="ann@example.com", name="Ann")
    do_sign_in(first["idToken"])
    created = Store(runtime.firestore_client()).get_user(first["localId"])
    auth_emulator.admin("accounts:update", {"localId": first["localId"], "displayName": "Ann B."})
    second = auth_emulator.sign_in_with_google(email="ann@example.com", name="Ann B.")
    do_sign_in(second["idToken"])
    after = Store(runtime.firestore_client()).get_user(first["localId"])
    assert created is not None
    assert after is not None
    assert after.created_at == created.created_at
    assert after.last_login_at >= created.last_login_at
    assert after.name == "Ann B."


def test_expired_id_token_is_refused(auth_emulator: AuthEmulator) -> None:
    uid = auth_emulator.sign_in_with_google()["localId"]
    past = int(time.time()) - 7200
    token = auth_emulator.forged_token(uid, iat=past, auth_time=past, exp=past + 3600)
    with pytest.raises(Unauthenticated, match="has expired"):
        do_sign_in(token)


def test_revoked_id_token_is_refused(auth_emulator: AuthEmulator) -> None:
    uid = auth_emulator.sign_in_with_google()["localId"]
    earlier = int(time.time()) - 60
    token = auth_emulator.forged_token(uid, auth_time=earlier, iat=earlier)
    do_sign_in(token)  # Valid before the revocation.
    from firebase_admin import auth

    auth.revoke_refresh_tokens(uid, app=runtime.firebase_app())
    with pytest.raises(Unauthenticated, match="was revoked"):
        do_sign_in(token)


def test_id_token_for_another_project_is_refused(
    auth_emulator: AuthEmulator, emulators: Stack
) -> None:
    uid = auth_emulator.sign_in_with_google()["localId"]
    token = auth_emulator.forged_token(
        uid, aud="demo-other", iss="https://securetoken.google.com/demo-other"
    )
    with pytest.raises(Unauthenticated, match='incorrect "aud"'):
        do_sign_in(token)


def test_disabled_user_is_refused(auth_emulator: AuthEmulator) -> None:
    google = auth_emulator.sign_in_with_google()
    auth_emulator.admin("accounts:update", {"localId": google["localId"], "disableUser": True})
    with pytest.raises(Unauthenticated, match="disabled"):
        do_sign_in(google["idToken"])


@pytest.mark.usefixtures("clean")
def test_garbage_id_token_is_refused() -> None:
    with pytest.raises(Unauthenticated, match="invalid"):
        do_sign_in("not-a-token")


def test_a_sign_in_during_deletion_does_not_bring_the_user_back(
    auth_emulator: AuthEmulator,
) -> None:
    from datetime import UTC, datetime

    from shared.store.user_data import UserData
    from shared.users.deletion import mark_deleting

    google = auth_emulator.sign_in_with_google(email="gone@example.com", name="Gone")
    do_sign_in(google["idToken"])
    db = runtime.firestore_client()
    mark_deleting(UserData(db), google["localId"], datetime.now(UTC))
    with pytest.raises(Unauthenticated) as refused:
        do_sign_in(google["idToken"])  # the ID token is still valid for an hour
    assert refused.value.reason == "user.deleted"
    stored = db.collection(USERS).document(google["localId"]).get().to_dict()
    assert stored is not None
    assert "email" not in stored
    assert "deleting_since" in stored
