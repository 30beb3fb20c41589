"""The session token: HS256 with a kid, every refusal named (promise P2)."""

from __future__ import annotations

import base64
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


def codec(*keys: SessionKey, ttl: int = 3600) -> SessionCodec:
    return SessionCodec(keys or (NEW,), issuer=ISSUER, audience=AUDIENCE, ttl_seconds=ttl)


def issue(c: SessionCodec | None = None, **kwargs: float) -> str:
    return (c or codec()).issue(
        "uid-1", email="a@example.com", name="Ann", picture="https://p/a.png", **kwargs
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
    token = jwt.encode(claims, NEW.secret, algorithm=alg, headers={"kid": "new"})
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
        NEW.secret,
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
