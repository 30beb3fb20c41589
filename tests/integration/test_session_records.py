"""Revocable sessions: every cookie names a session record, checked on every authenticated route
(promise P18), against the real Firestore and Auth emulators, through the HTTP edge in-process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import jwt
import pytest

from emulator.stack import Stack
from functions.session import session
from shared import runtime
from shared.store.sessions import SESSIONS, SessionStore, new_session_id, revoke_all_sessions
from shared.store.users import USERS
from shared.web.http import Route, entrypoint, json_response
from tests.support import AuthEmulator

pytestmark = pytest.mark.emulators

app = flask.Flask(__name__)
whoami = entrypoint([Route("GET", "/api/whoami", lambda c: json_response({"uid": c.uid}))])


@pytest.fixture
def origin(clean: Stack) -> Iterator[str]:
    runtime.reset()
    yield runtime.settings().app_origin
    runtime.reset()


def request(
    function: Any, method: str, path: str, cookie: str | None, origin: str
) -> flask.Response:
    headers = {"Origin": origin}
    if cookie:
        headers["Cookie"] = f"__session={cookie}"
    with app.test_request_context(path, method=method, headers=headers):
        response: flask.Response = function(flask.request)
    return response


def sign_in(auth_emulator: AuthEmulator, origin: str, email: str = "ann@example.com") -> str:
    id_token = auth_emulator.sign_in_with_google(email=email)["idToken"]
    with app.test_request_context(
        "/api/session", method="POST", json={"id_token": id_token}, headers={"Origin": origin}
    ):
        response = session(flask.request)
    assert response.status_code == 200, response.get_data()
    cookie = response.headers["Set-Cookie"].split(";")[0].partition("=")[2]
    return cookie


def uid_of(cookie: str) -> str:
    return str(jwt.decode(cookie, options={"verify_signature": False})["sub"])


def sessions_of(uid: str) -> list[dict[str, Any]]:
    ref = runtime.firestore_client().collection(USERS).document(uid).collection(SESSIONS)
    return [snapshot.to_dict() | {"id": snapshot.id} for snapshot in ref.stream()]


def test_sign_in_records_a_session_named_by_the_cookie(
    auth_emulator: AuthEmulator, origin: str
) -> None:
    cookie = sign_in(auth_emulator, origin)
    claims = jwt.decode(cookie, options={"verify_signature": False})
    [record] = sessions_of(claims["sub"])
    assert record["id"] == claims["sid"]
    assert set(record) == {"id", "created_at", "expire_at"}
    assert abs(record["expire_at"].timestamp() - claims["exp"]) < 1
    assert request(whoami, "GET", "/api/whoami", cookie, origin).status_code == 200


def test_a_signed_out_cookie_is_401_at_once(auth_emulator: AuthEmulator, origin: str) -> None:
    cookie = sign_in(auth_emulator, origin)
    other = sign_in(auth_emulator, origin)  # The same user in a second browser.
    signed_out = request(session, "DELETE", "/api/session", cookie, origin)
    assert signed_out.status_code == 200
    assert "__session=;" in signed_out.headers["Set-Cookie"]
    refused = request(whoami, "GET", "/api/whoami", cookie, origin)
    assert refused.status_code == 401
    assert "session has ended" in json.loads(refused.get_data())["error"]["message"]
    assert "__session=;" in refused.headers["Set-Cookie"]  # The dead cookie is dropped.
    assert request(session, "DELETE", "/api/session", cookie, origin).status_code == 401
    # Signing out here leaves the other browser signed in.
    assert request(whoami, "GET", "/api/whoami", other, origin).status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_user_only(
    auth_emulator: AuthEmulator, origin: str
) -> None:
    first = sign_in(auth_emulator, origin)
    second = sign_in(auth_emulator, origin)
    bob = sign_in(auth_emulator, origin, "bob@example.com")
    response = request(session, "DELETE", "/api/session?everywhere=true", first, origin)
    assert response.status_code == 200
    for cookie in (first, second):
        assert request(whoami, "GET", "/api/whoami", cookie, origin).status_code == 401
    assert sessions_of(uid_of(first)) == []
    assert request(whoami, "GET", "/api/whoami", bob, origin).status_code == 200


def test_everywhere_must_be_true_or_false(auth_emulator: AuthEmulator, origin: str) -> None:
    cookie = sign_in(auth_emulator, origin)
    response = request(session, "DELETE", "/api/session?everywhere=yes", cookie, origin)
    assert response.status_code == 400
    assert "everywhere must be true or false" in response.get_data(as_text=True)
    assert request(whoami, "GET", "/api/whoami", cookie, origin).status_code == 200


def test_a_validly_signed_cookie_without_its_record_is_401(origin: str) -> None:
    forged_sid = runtime.session_codec().issue(
        "u1", sid=new_session_id(), email=None, name=None, picture=None
    )
    assert request(whoami, "GET", "/api/whoami", forged_sid, origin).status_code == 401


def test_an_expired_record_is_401_even_if_the_cookie_is_not(origin: str) -> None:
    store, sid, now = SessionStore(runtime.firestore_client()), new_session_id(), datetime.now(UTC)
    store.create("u1", sid, now=now - timedelta(hours=2), expire_at=now - timedelta(seconds=1))
    cookie = runtime.session_codec().issue("u1", sid=sid, email=None, name=None, picture=None)
    assert request(whoami, "GET", "/api/whoami", cookie, origin).status_code == 401


def test_revoke_all_sessions_pages_through_many(origin: str) -> None:
    store, now = SessionStore(runtime.firestore_client()), datetime.now(UTC)
    for _ in range(3):
        store.create("u1", new_session_id(), now=now, expire_at=now + timedelta(hours=1))
    assert revoke_all_sessions(runtime.firestore_client(), "u1") == 3
    assert sessions_of("u1") == []
    assert revoke_all_sessions(runtime.firestore_client(), "u1") == 0


def test_re_signing_an_old_kid_keeps_the_session_and_its_expiry(
    auth_emulator: AuthEmulator, origin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_cookie = sign_in(auth_emulator, origin)
    old_claims = jwt.decode(old_cookie, options={"verify_signature": False})
    secrets = runtime.settings().session_keys
    rotated = "new:" + "r" * 48 + "," + ",".join(f"{k.kid}:{k.secret.reveal()}" for k in secrets)
    monkeypatch.setenv("SESSION_SECRETS", rotated)
    runtime.reset()
    time.sleep(1.1)  # A re-sign that restarted the clock would move exp.

    response = request(session, "GET", "/api/session", old_cookie, origin)
    assert response.status_code == 200
    new_cookie = response.headers["Set-Cookie"].split(";")[0].partition("=")[2]
    assert jwt.get_unverified_header(new_cookie)["kid"] == "new"
    new_claims = jwt.decode(new_cookie, options={"verify_signature": False})
    assert new_claims["exp"] == old_claims["exp"]
    assert new_claims["sid"] == old_claims["sid"]
    max_age = int(response.headers["Set-Cookie"].split("Max-Age=")[1].split(";")[0])
    assert max_age <= old_claims["exp"] - old_claims["iat"] - 1
    # The old cookie keeps working until the old key is retired; both name one session.
    assert request(whoami, "GET", "/api/whoami", new_cookie, origin).status_code == 200
    request(session, "DELETE", "/api/session", new_cookie, origin)
    assert request(whoami, "GET", "/api/whoami", old_cookie, origin).status_code == 401
