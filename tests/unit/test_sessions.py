"""The session token: HS256 with a kid, every refusal named (promise P2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from shared.config import Secret, SessionKey
from shared.errors import Unauthenticated
from shared.web.sessions import SessionCodec

OLD = SessionKey("old", Secret("o" * 40))
NEW = SessionKey("new", Secret("n" * 64))
ISSUER = "https://app.example.com/api/session"
AUDIENCE = "https://app.example.com"
SID = "s" * 32


def codec(*keys: SessionKey, ttl: int = 3600) -> SessionCodec:
    return SessionCodec(keys or (NEW,), issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl)


def issue(c: SessionCodec | None = None, now: float | None = None) -> str:
    return (c or codec()).issue(
        "uid-1", sid=SID, email="a@example.com", name="Ann", picture="https://p/a.png", now=now
    )


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_token_holds_the_user_claims_and_kid() -> None:
    token = issue()
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "HS256", "kid": "new", "typ": "JWT"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == "uid-1"
    assert claims["exp"] - claims["iat"] == 3600
    assert (claims["email"], claims["name"], claims["picture"]) == (
        "a@example.com",
        "Ann",
        "https://p/a.png",
    )
    user = codec().verify(token)
    assert user.public() == {
        "uid": "uid-1",
        "email": "a@example.com",
        "name": "Ann",
        "picture": "https://p/a.png",
    }
    assert user.kid == "new"


def test_tampered_payload_is_refused() -> None:
    header, _, signature = issue().split(".")
    forged = b64({"iss": ISSUER, "aud": AUDIENCE, "sub": "someone-else", "iat": 1, "exp": 2**40})
    with pytest.raises(Unauthenticated, match="signature does not match"):
        codec().verify(f"{header}.{forged}.{signature}")


def test_tampered_signature_is_refused() -> None:
    token = issue()
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unauthenticated, match="signature does not match"):
        codec().verify(flipped)


def test_alg_none_is_refused() -> None:
    claims = jwt.decode(issue(), options={"verify_signature": False})
    token = f"{b64({'alg': 'none', 'kid': 'new', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(Unauthenticated, match="algorithm 'none'; only HS256"):
        codec().verify(token)


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(alg: str) -> None:
    claims = jwt.decode(issue(), options={"verify_signature": False})
    token = jwt.encode(claims, NEW.secret.reveal(), algorithm=alg, headers={"kid": "new"})
    with pytest.raises(Unauthenticated, match=f"algorithm '{alg}'"):
        codec().verify(token)


def test_unknown_kid_is_refused() -> None:
    token = issue(codec(SessionKey("stranger", Secret("s" * 40))))
    with pytest.raises(Unauthenticated, match="unknown or retired key"):
        codec().verify(token)


def test_wrong_key_with_known_kid_is_refused() -> None:
    token = issue(codec(SessionKey("new", Secret("w" * 40))))
    with pytest.raises(Unauthenticated, match="signature does not match"):
        codec().verify(token)


def test_expired_token_is_refused() -> None:
    token = issue(now=time.time() - 7200)
    with pytest.raises(Unauthenticated, match="expired"):
        codec().verify(token)


def test_wrong_issuer_and_audience_are_refused() -> None:
    other_issuer = SessionCodec(
        [NEW], issuer="https://evil.example", audience=AUDIENCE, ttl_seconds=60
    )
    with pytest.raises(Unauthenticated, match="wrong issuer"):
        codec().verify(issue(other_issuer))
    other_audience = SessionCodec(
        [NEW], issuer=ISSUER, audience="https://evil.example", ttl_seconds=60
    )
    with pytest.raises(Unauthenticated, match="another audience"):
        codec().verify(issue(other_audience))


def test_missing_required_claim_is_refused() -> None:
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": int(time.time()) + 60},
        NEW.secret.reveal(),
        algorithm="HS256",
        headers={"kid": "new"},
    )
    with pytest.raises(Unauthenticated, match="lacks the 'iat' claim"):
        codec().verify(token)


def test_garbage_is_refused() -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        codec().verify("not-a-jwt")


def test_rotation_old_kid_verifies_until_removed() -> None:
    old_token = issue(codec(OLD))
    rotated = codec(NEW, OLD)
    assert rotated.verify(old_token).kid == "old"
    assert jwt.get_unverified_header(issue(rotated))["kid"] == "new"
    with pytest.raises(Unauthenticated, match="unknown or retired key"):
        codec(NEW).verify(old_token)


def test_token_names_its_session_record() -> None:
    token = issue()
    assert jwt.decode(token, options={"verify_signature": False})["sid"] == SID
    assert codec().verify(token).sid == SID


@pytest.mark.parametrize("sid", [None, "", "short", "x/" * 20, 7])
def test_token_without_a_valid_session_id_is_refused(sid: object) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "iat": now, "exp": now + 60}
    if sid is not None:
        claims["sid"] = sid
    token = jwt.encode(claims, NEW.secret.reveal(), algorithm="HS256", headers={"kid": "new"})
    with pytest.raises(Unauthenticated, match=r"'sid' claim|no valid session"):
        codec().verify(token)


def signed(header: dict[str, object], claims: dict[str, object]) -> str:
    """A token signed with NEW's secret whatever its header says (pyjwt refuses to make these)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    mac = hmac.new(NEW.secret.reveal().encode(), signing_input.encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    return f"{signing_input}.{signature}"


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "HS256", "typ": "JWT", "kid": 1},
        {"alg": "HS256", "typ": "JWT", "kid": "new", "crit": ["exp"]},
        {"alg": "HS256", "typ": "JWT", "kid": "new", "crit": "exp"},
        {"alg": "HS256", "typ": "JWT", "kid": ["new"]},
    ],
)
def test_header_fields_of_the_wrong_shape_are_refused_not_a_crash(
    header: dict[str, object],
) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "sid": SID, "iat": now, "exp": now + 60}
    with pytest.raises(Unauthenticated):
        codec().verify(signed(header, claims))


def test_re_signing_keeps_the_given_expiry() -> None:
    first = codec(OLD).verify(issue(codec(OLD), now=time.time() - 100))
    again = codec(NEW, OLD).issue(
        first.uid, sid=first.sid, email=None, name=None, picture=None, expires_at=first.expires_at
    )
    assert codec(NEW).verify(again).expires_at == first.expires_at
