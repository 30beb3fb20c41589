"""The session cookie: an HMAC-SHA256 JWT naming the signed-in user and their session record.

The ``sid`` claim names the server-side session record (:mod:`shared.store.sessions`) that must
still exist for the cookie to be honoured; the signature alone proves only that this backend issued
it. Tokens carry a ``kid`` header naming the key that signed them. The first key of
``SESSION_SECRETS`` signs; every listed key verifies, so keys rotate by prepending a new one and
removing the old one once its tokens have expired. Verification raises
:class:`~shared.errors.Unauthenticated` with a message that says what was wrong, never a bool.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from shared.config import SessionKey
from shared.errors import Unauthenticated

SESSION_COOKIE = "__session"  # The only cookie Firebase Hosting forwards to functions.
ALGORITHM = "HS256"
_LEEWAY_SECONDS = 30
_SID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class SessionUser:
    uid: str
    sid: str
    email: str | None
    name: str | None
    picture: str | None
    kid: str
    expires_at: int

    def public(self) -> dict[str, str | None]:
        return {"uid": self.uid, "email": self.email, "name": self.name, "picture": self.picture}


class SessionCodec:
    """Issues and verifies session tokens for one issuer/audience pair."""

    def __init__(
        self, keys: Sequence[SessionKey], *, issuer: str, audience: str, ttl_seconds: int
    ) -> None:
        if not keys:
            raise ValueError("at least one session key is required")
        self._keys = {key.kid: key.secret.reveal() for key in keys}
        self._signing = keys[0]
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds

    @property
    def signing_kid(self) -> str:
        return self._signing.kid

    def issue(
        self,
        uid: str,
        *,
        sid: str,
        email: str | None,
        name: str | None,
        picture: str | None,
        now: float | None = None,
        expires_at: int | None = None,
    ) -> str:
        """A signed token for session ``sid``; ``expires_at`` keeps an existing session's expiry
        when it is re-signed with the current key (else the session lasts ``ttl_seconds``)."""
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": uid,
            "sid": sid,
            "iat": issued,
            "exp": issued + self.ttl_seconds if expires_at is None else expires_at,
            "email": email,
            "name": name,
            "picture": picture,
        }
        return jwt.encode(
            claims,
            self._signing.secret.reveal(),
            algorithm=ALGORITHM,
            headers={"kid": self._signing.kid},
        )

    def verify(self, token: str) -> SessionUser:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:  # Undecodable, or a header field of the wrong type.
            raise Unauthenticated("the session cookie is malformed") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(
                f"the session token uses algorithm {header.get('alg')!r}; only HS256 is accepted"
            )
        kid = header.get("kid")
        secret = self._keys.get(kid) if isinstance(kid, str) else None
        if secret is None or not isinstance(kid, str):
            raise Unauthenticated("the session was signed with an unknown or retired key")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the session has expired; sign in again") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the session token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the session token has the wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the session signature does not match") from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"the session token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("the session token is invalid") from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise Unauthenticated("the session token names no user")
        sid = claims["sid"]
        if not isinstance(sid, str) or not _SID_RE.match(sid):
            raise Unauthenticated("the session token names no valid session")
        return SessionUser(
            uid=sub,
            sid=sid,
            email=_opt_str(claims.get("email")),
            name=_opt_str(claims.get("name")),
            picture=_opt_str(claims.get("picture")),
            kid=kid,
            expires_at=int(claims["exp"]),
        )


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
