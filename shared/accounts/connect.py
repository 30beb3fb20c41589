"""Connecting a TikTok account: the OAuth 2.0 authorization-code flow of Login Kit for Web.

``start_connect`` makes a single-use 256-bit ``state`` bound to the signed-in user (stored only as
its SHA-256, with the same-origin path to return to and a 10-minute expiry) and returns TikTok's
authorize URL. ``finish_connect`` checks the state, exchanges the code (web apps use the client
secret, no PKCE: docs/tiktok-api.md §1.4), fetches exactly the profile fields granted scopes allow,
and stores the account with its tokens encrypted through the vault. It returns where to send the
browser: the ``return_to`` path with ``?connected=<open_id>`` or ``?error=<code>``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from shared import errors, logs
from shared.crypto.fields import seal
from shared.store.accounts import ACTIVE, Account, AccountStore, account_path
from shared.store.oauth_states import PendingConnect, StateInvalid
from shared.tiktok.models import LoginKit, fields_for_scopes

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.tiktok.client import TikTokClient, TokenGrant

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
DEFAULT_RETURN = "/"
# OAuth error codes TikTok may send back to the callback (docs/tiktok-api.md §1.8) that we pass on.
_KNOWN_CALLBACK_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "invalid_scope",
        "unauthorized_client",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
    }
)


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def safe_return_path(raw: str | None) -> str:
    """A same-origin path, or 400: no scheme, no host, no ``//`` or backslash tricks."""
    if raw is None or raw == "":
        return DEFAULT_RETURN
    parts = urlsplit(raw)
    if (
        not raw.startswith("/")
        or raw.startswith("//")
        or "\\" in raw
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 0x20 for c in raw)
        or len(raw) > 512
    ):
        raise errors.InvalidArgument(
            "return_to must be a path on this app's origin, like /accounts", reason="return_to"
        )
    return raw


def start_connect(
    store: AccountStore,
    login: LoginKit,
    *,
    uid: str,
    return_to: str | None,
    scopes: tuple[str, ...],
    now: datetime,
) -> str:
    """Record a pending connect and return TikTok's authorize URL."""
    path = safe_return_path(return_to)
    state = secrets.token_urlsafe(32)  # 256 bits.
    logs.register_secret(state)
    store.put_state(state_hash(state), PendingConnect(uid, path, now + STATE_TTL), now)
    return login.authorize_url(state=state, scopes=scopes)


@dataclass(frozen=True)
class Outcome:
    """Where the callback sends the browser."""

    location: str
    open_id: str | None = None
    error: str | None = None


def finish_connect(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    params: Mapping[str, str],
    now: datetime,
) -> Outcome:
    """Handle TikTok's redirect back; never raises for the user's or TikTok's failures."""
    state = params.get("state", "")
    if not state:
        return _fail(DEFAULT_RETURN, "invalid_state", "missing state")
    logs.register_secret(state, params.get("code"))
    digest = state_hash(state)
    peeked = store.peek_state(digest)
    # Only the rightful owner's pending connect may choose the return path.
    return_to = peeked.return_to if peeked and peeked.uid == uid else DEFAULT_RETURN
    try:
        store.consume_state(digest, uid, now)
    except StateInvalid as exc:
        return _fail(return_to, "invalid_state", exc.why)

    if params.get("error"):
        code = params["error"]
        return _fail(return_to, code if code in _KNOWN_CALLBACK_ERRORS else "tiktok_error", code)
    code = params.get("code", "")
    if not code:
        return _fail(return_to, "invalid_request", "callback without code")

    try:
        grant = tiktok.exchange_code(code)
        fields = fields_for_scopes(grant.scopes)
        profile = dict(tiktok.user_info(grant.access_token, fields))
        if profile.get("open_id", grant.open_id) != grant.open_id:
            raise errors.Internal("TikTok's user info names another open_id than the token")
        account = _account(vault, uid, grant, profile, store.get(uid, grant.open_id), now)
        store.save(account)
    except errors.AppError as exc:
        return _fail(return_to, _error_code(exc), exc.message)
    log.info("tiktok account connected", extra={"uid": uid, "scopes": list(grant.scopes)})
    return Outcome(_with_query(return_to, connected=grant.open_id), open_id=grant.open_id)


def _account(
    vault: Vault,
    uid: str,
    grant: TokenGrant,
    profile: dict[str, object],
    existing: Account | None,
    now: datetime,
) -> Account:
    path = account_path(uid, grant.open_id)
    # Encrypt before anything is written: a KMS failure leaves no half-stored account.
    access = seal(vault, path, "access_token", grant.access_token)
    refresh = seal(vault, path, "refresh_token", grant.refresh_token)
    profile.pop("open_id", None)
    return Account(
        uid=uid,
        open_id=grant.open_id,
        profile=profile,
        scopes=grant.scopes,
        status=ACTIVE,
        status_reason=None,
        access_expires_at=now + timedelta(seconds=grant.expires_in),
        refresh_expires_at=now + timedelta(seconds=grant.refresh_expires_in),
        connected_at=existing.connected_at if existing else now,
        updated_at=now,
        access_token_enc=access,
        refresh_token_enc=refresh,
        # Reconnecting keeps the user's analytics choice.
        analytics_enabled=existing.analytics_enabled if existing else True,
    )


def _error_code(exc: errors.AppError) -> str:
    if exc.reason and exc.reason.startswith("tiktok."):
        return exc.reason.removeprefix("tiktok.")
    if isinstance(exc, (errors.Unavailable, errors.DeadlineExceeded)):
        return "temporarily_unavailable"
    return "connect_failed"


def _fail(return_to: str, code: str, why: str) -> Outcome:
    log.warning("tiktok connect refused: %s", why, extra={"error": code})
    return Outcome(_with_query(return_to, error=code), error=code)


def _with_query(path: str, **params: str) -> str:
    """``path`` with ``params`` added to its query, which comes before any ``#fragment``."""
    base, hash_mark, fragment = path.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(params)}{hash_mark}{fragment}"
