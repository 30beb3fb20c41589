"""The TikTok API client: Login Kit OAuth, Display API user info, Content Posting API.

The publishing calls (init, chunk upload, status) live in :mod:`shared.tiktok.posting`, mixed in.

One injected :class:`httpx.Client` per instance (built by :func:`make_http_client`), faked at the
transport in tests. TikTok's answers and httpx's failures are translated into the project's errors
here and in :mod:`shared.tiktok.errors`, nowhere else; no httpx exception leaves this module.

Retries: only calls that are safe to repeat (reads, and revoke, which is idempotent) are retried,
with exponential backoff and jitter, honouring ``Retry-After`` up to a cap. A code exchange is
never retried (a code is single-use). A refresh is retried only when TikTok provably did not act:
the connection was never made, or TikTok answered 429 (rate limiting happens before the grant is
processed). A refresh that timed out or got a 5xx may already have rotated the refresh token
(https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token), so repeating it blindly
could trade a working token for ``invalid_grant``; the caller decides.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from shared import logs
from shared.config import is_loopback
from shared.errors import (
    AppError,
    ConfigError,
    Unavailable,
)
from shared.tiktok.display import DisplayCalls
from shared.tiktok.errors import (
    ERRORS,
    envelope_data,
    json_object,
    malformed,
    oauth_failure,
    transport_error,
)
from shared.tiktok.models import (
    ChunkAck,
    CreatorInfo,
    InitResult,
    LoginKit,
    MalformedValue,
    PublishStatus,
    TokenGrant,
    UserInfo,
    fields_for_scopes,
    parse_creator_info,
    parse_user_info,
)
from shared.tiktok.posting import PostingCalls, Translate
from shared.tiktok.retry import Retry, retry_delay

__all__ = [
    "ERRORS",
    "ChunkAck",
    "CreatorInfo",
    "InitResult",
    "PublishStatus",
    "TikTokClient",
    "TokenGrant",
    "UserInfo",
    "fields_for_scopes",
    "make_http_client",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 - a path, not a password
REVOKE_PATH = "/v2/oauth/revoke/"
USER_INFO_PATH = "/v2/user/info/"
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"

TIMEOUT = httpx.Timeout(20.0, connect=5.0)


def require_tls(url: str, name: str) -> None:
    """Refuse plain http except to a loopback host (the local fake TikTok), promise P16."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    raise ConfigError(f"{name} must be an https URL (http only for a loopback emulator): {url!r}")


def make_http_client(api_base: str) -> httpx.Client:
    """The one httpx client an instance uses for TikTok: pooled, explicit timeouts, no redirects."""
    require_tls(api_base, "TikTok API base")
    return httpx.Client(
        base_url=api_base,
        timeout=TIMEOUT,
        follow_redirects=False,
        # Every connection is kept: the scheduled jobs call from 16 threads at once, and a pool
        # keeping fewer would close the surplus after each call and open it again, a TLS
        # handshake each (tests/integration/test_tiktok_pool.py).
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=20, keepalive_expiry=60),
        headers={"User-Agent": "tiktok-publisher-backend/0.1"},
    )


class TikTokClient(PostingCalls, DisplayCalls):
    """TikTok's OAuth, user info, creator info and publishing calls, raising our errors."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_key: str,
        client_secret: str,
        redirect_uri: str,
        auth_url: str,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 3,
    ) -> None:
        require_tls(str(http.base_url), "TikTok API base")
        require_tls(auth_url, "TikTok authorize URL")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        logs.register_secret(client_secret)
        self._http = http
        self._client_key = client_key
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._auth_url = auth_url
        self._sleep = sleep
        self._max_attempts = max_attempts

    def __repr__(self) -> str:
        return f"TikTokClient(base_url={str(self._http.base_url)!r}, client_key=***)"

    # Login Kit (docs/tiktok-api.md §1) ------------------------------------------------------------

    def authorize_url(self, *, state: str, scopes: Sequence[str]) -> str:
        """TikTok's consent page URL. Web apps send no PKCE parameters (§1.4)."""
        logs.register_secret(state)
        login = LoginKit(self._auth_url, self._client_key, self._redirect_uri)
        return login.authorize_url(state=state, scopes=scopes)

    def exchange_code(self, code: str) -> TokenGrant:
        """Trade an authorization code for tokens; sent once, as a code is single-use."""
        logs.register_secret(code)
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": self._redirect_uri,
        }
        return self._token(form, Retry.NEVER)

    def refresh(self, refresh_token: str) -> TokenGrant:
        """A new grant from a refresh token. The answer's refresh token replaces the old one."""
        logs.register_secret(refresh_token)
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        }
        return self._token(form, Retry.NOT_SENT_OR_429)

    def revoke(self, access_token: str) -> None:
        """Revoke the authorization behind ``access_token`` (§1.9); repeating it is harmless."""
        logs.register_secret(access_token)
        form = {
            "client_key": self._client_key,
            "client_secret": self._client_secret,
            "token": access_token,
        }

        def call() -> None:
            response = self._send("POST", REVOKE_PATH, data=form)
            failure = oauth_failure(response, json_object(response))
            if failure is not None:
                raise failure

        self._with_retries(call, Retry.SAFE, "revoke")

    # Display API (docs/tiktok-api.md §2) ----------------------------------------------------------

    def user_info(self, access_token: str, fields: Sequence[str]) -> UserInfo:
        """The user's profile, only ``fields`` (use :func:`fields_for_scopes` for the grant)."""
        logs.register_secret(access_token)
        wanted = list(fields)

        def call() -> UserInfo:
            response = self._send(
                "GET",
                USER_INFO_PATH,
                params={"fields": ",".join(wanted)},
                headers=_bearer(access_token),
            )
            data = envelope_data(response)
            try:
                return parse_user_info(data, wanted)
            except MalformedValue as exc:
                raise malformed("user info", response) from exc

        return self._with_retries(call, Retry.SAFE, "user_info")

    # Content Posting API (docs/tiktok-api.md §3.1) ------------------------------------------------

    def creator_info(self, access_token: str) -> CreatorInfo:
        """Fresh creator info; spam-risk answers arrive with HTTP 200 and still raise (§3.1)."""
        logs.register_secret(access_token)

        def call() -> CreatorInfo:
            response = self._send(
                "POST",
                CREATOR_INFO_PATH,
                json={},
                headers={
                    **_bearer(access_token),
                    "Content-Type": "application/json; charset=UTF-8",
                },
            )
            data = envelope_data(response)
            try:
                return parse_creator_info(data)
            except MalformedValue as exc:
                raise malformed("creator info", response) from exc

        return self._with_retries(call, Retry.SAFE, "creator_info")

    # Plumbing ----------------------------------------------------------------------------------

    def _token(self, form: dict[str, str], retry: Retry) -> TokenGrant:
        def call() -> TokenGrant:
            response = self._send("POST", TOKEN_PATH, data=form)
            body = json_object(response)
            failure = oauth_failure(response, body)
            if failure is not None:
                raise failure
            # No ``error`` but no access_token either is still a failure, whatever the status
            # (https://developers.tiktok.com/doc/oauth-error-handling leaves the status open).
            if body is None or not body.get("access_token"):
                raise malformed("token answer without access_token", response)
            try:
                grant = TokenGrant.from_json(body)
            except MalformedValue as exc:
                raise malformed("token answer", response) from exc
            logs.register_secret(grant.access_token, grant.refresh_token)
            return grant

        return self._with_retries(call, retry, form["grant_type"])

    def _send(
        self, method: str, path: str, *, translate: Translate = transport_error, **kwargs: Any
    ) -> httpx.Response:
        """One request (``path`` may be an absolute URL: the chunk upload's); transport failures
        become the project's errors through ``translate``, which never sees the URL's query."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise translate(exc, path.split("?", 1)[0]) from exc
        if 300 <= response.status_code < 400:
            raise Unavailable(
                f"TikTok answered an unexpected redirect (HTTP {response.status_code})",
                reason="tiktok.unexpected_redirect",
            )
        return response

    def _with_retries(self, call: Callable[[], T], retry: Retry, what: str) -> T:
        attempt = 1
        while True:
            try:
                return call()
            except AppError as error:
                delay = retry_delay(error, retry, attempt, self._max_attempts)
                if delay is None:
                    log.warning(
                        "tiktok call failed",
                        extra={
                            "call": what,
                            "attempt": attempt,
                            "reason": error.reason,
                            "log_id": error.details.get("log_id"),
                        },
                    )
                    raise
                log.info(
                    "tiktok call will be retried",
                    extra={"call": what, "attempt": attempt, "reason": error.reason},
                )
                self._sleep(delay)
                attempt += 1


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}
