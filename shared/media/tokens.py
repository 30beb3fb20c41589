"""``/media/{token}`` tokens: HMAC-SHA256 over (user, post, staged media, expiry).

``v1.<kid>.<payload>.<mac>`` with base64url parts. The first key of ``MEDIA_URL_SECRETS`` signs;
every listed key verifies, so keys rotate like ``SESSION_SECRETS`` (prepend a new one, drop the
old one an hour later, when every token it signed has expired). :meth:`MediaTokens.verify`
answers None for every bad token, whatever was wrong, and compares MACs in constant time; the
caller answers one identical 404 for all of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

from shared.config import SessionKey

VERSION = "v1"
TOKEN_MAX = 1024


@dataclass(frozen=True)
class MediaGrant:
    """What a valid token allows: reading one staged object for one post until ``expires_at``."""

    uid: str
    post_id: str
    media_id: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MediaTokens:
    def __init__(self, keys: Sequence[SessionKey]) -> None:
        if not keys:
            raise ValueError("at least one media URL key is required")
        self._keys = {k.kid: k.secret.reveal().encode() for k in keys}
        self._signing = keys[0]
        self._decoy = hashlib.sha256(b"no such key").digest()

    def issue(self, grant: MediaGrant) -> str:
        payload = json.dumps(
            {"u": grant.uid, "p": grant.post_id, "m": grant.media_id, "e": grant.expires_at},
            separators=(",", ":"),
        )
        signed = f"{VERSION}.{self._signing.kid}.{_b64(payload.encode())}"
        return f"{signed}.{_b64(self._mac(self._keys[self._signing.kid], signed))}"

    def verify(self, token: str, now: float) -> MediaGrant | None:
        """The grant a valid, unexpired token carries; None for anything else."""
        if len(token) > TOKEN_MAX:
            return None
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            return None
        signed = ".".join(parts[:3])
        key = self._keys.get(parts[1])
        expected = self._mac(key if key is not None else self._decoy, signed)
        try:
            given = _unb64(parts[3])
        except ValueError:
            given = b""
        if not hmac.compare_digest(expected, given) or key is None:
            return None
        try:
            claims = json.loads(_unb64(parts[2]))
            grant = MediaGrant(
                uid=str(claims["u"]),
                post_id=str(claims["p"]),
                media_id=str(claims["m"]),
                expires_at=int(claims["e"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return grant if now < grant.expires_at else None

    @staticmethod
    def _mac(key: bytes, signed: str) -> bytes:
        return hmac.new(key, signed.encode(), hashlib.sha256).digest()
