"""The fake TikTok's in-memory world: users, codes, authorizations, tokens, knobs for tests.

One :class:`World` per server, guarded by one lock, because the server is threaded. Everything a
test can change (token lifetimes, rotation, latency, injected failures, the clock) lives here, so
``POST /_control/reset`` returns the fake to a known state between tests.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.tiktok import ledger
from emulator.tiktok.publishes import PublishBook

SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
    "video.list",
)

# Token lifetimes (docs/tiktok-api.md §1.7): the older pages say 24 h / 365 d
# (https://developers.tiktok.com/doc/oauth-user-access-token-management), the newer ones 2 h /
# 180 d (https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token).
LIFETIMES: dict[str, tuple[int, int]] = {"older": (86400, 31536000), "newer": (7200, 15552000)}

# Per-token limits per one-minute sliding window (docs/tiktok-api.md §4.3); each init endpoint has
# its own "6 requests per minute" (direct post, upload and photo references).
DEFAULT_RATE_LIMITS: dict[str, int] = {
    "creator_info": 20,
    "user_info": 600,
    "video_init": 6,
    "inbox_init": 6,
    "content_init": 6,
    "status_fetch": 30,
    "video_list": 600,
    "video_query": 600,
}
WINDOW_SECONDS = 60.0

ENDPOINTS = (
    "authorize",
    "decision",
    "token",
    "revoke",
    "user_info",
    "creator_info",
    "video_init",
    "inbox_init",
    "content_init",
    "upload",
    "status_fetch",
    "cancel",
    "video_list",
    "video_query",
)


def log_id() -> str:
    """A log id shaped like TikTok's: a UTC timestamp and 20 upper-case hex digits."""
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _token(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    token = prefix + "".join(secrets.choice(alphabet) for _ in range(60))
    ledger.record(token)
    return token


@dataclass
class FakeUser:
    """A TikTok account the fake can authorize, with its profile and creator settings."""

    open_id: str
    union_id: str
    display_name: str
    username: str
    avatar_url: str
    bio_description: str = ""
    is_verified: bool = False
    follower_count: int = 0
    following_count: int = 0
    likes_count: int = 0
    video_count: int = 0
    private_account: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    # One of the creator_info codes TikTok answers with HTTP 200 (docs/tiktok-api.md §3.1), or None.
    spam: str | None = None


@dataclass
class AuthCode:
    code: str
    client_key: str
    redirect_uri: str
    open_id: str
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class Authorization:
    """One consent: the tokens it issued share its fate on revoke."""

    id: str
    open_id: str
    client_key: str
    scopes: tuple[str, ...]
    refresh_token: str
    refresh_expires_at: float
    created_at: float
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires_at
    revoked: bool = False
    refreshes: int = 0


@dataclass
class Failure:
    """An injected failure: the next ``times`` calls of ``endpoint`` answer with it."""

    endpoint: str
    status: int
    code: str
    message: str
    retry_after: int | None
    times: int


def _verified_from_env() -> list[str]:
    """The app's verified URL properties at start (the local stack verifies its /media/ prefix)."""
    raw = os.environ.get("TIKTOK_VERIFIED_URL_PREFIXES", "")
    return [p.strip() for p in raw.split(",") if p.strip()]


@dataclass
class Config:
    access_expires_in: int = LIFETIMES["older"][0]
    refresh_expires_in: int = LIFETIMES["older"][1]
    rotate_refresh_tokens: bool = True
    code_expires_in: int = 300
    latency_ms: dict[str, int] = field(default_factory=dict)
    rate_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    # Content Posting (docs/tiktok-api.md §4.4, §7): an unaudited client may post only to private
    # accounts, and to at most 5 creators a day; ~15 direct posts per creator a day; 5 pending
    # inbox shares per creator a day. Verified URL properties are domains ("example.com", covering
    # subdomains) or URL prefixes ("https://example.com/videos/").
    audited: bool = True
    unaudited_user_cap: int = 5
    daily_post_cap: int = 15
    pending_share_cap: int = 5
    verified_url_prefixes: list[str] = field(default_factory=_verified_from_env)
    processing_seconds: float = 0.5
    # TikTok's media ingress is "up to ~100 Mbps" (docs/tiktok-api.md §7); 0: uploads unlimited.
    ingress_mbps: float = 0.0


@dataclass(frozen=True)
class App:
    """The one registered developer app the fake knows."""

    client_key: str
    client_secret: str
    redirect_uri: str


class World:
    """All mutable state of the fake; hold :attr:`lock` while reading or changing it."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.lock = threading.RLock()
        self.reset_hooks: list[Callable[[], None]] = []  # re-wire webhooks, clear videos
        self.reset()

    def reset(self) -> None:
        with self.lock:
            old: PublishBook | None = getattr(self, "publishes", None)
            if old is not None:
                old.close()
            self.publishes = PublishBook(self.lock, self.now)
            self.users: dict[str, FakeUser] = {}
            self.codes: dict[str, AuthCode] = {}
            self.authorizations: dict[str, Authorization] = {}
            self.by_access: dict[str, str] = {}  # access token -> authorization id
            self.by_refresh: dict[str, str] = {}  # live refresh token -> authorization id
            self.config = Config()
            self.failures: list[Failure] = []
            self.calls: dict[str, int] = defaultdict(int)
            self.last_requests: dict[str, dict[str, Any]] = {}
            self.windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
            self.clock_offset = 0.0
            for hook in self.reset_hooks:
                hook()

    def now(self) -> float:
        return time.time() + self.clock_offset

    def add_user(self, **fields: Any) -> FakeUser:
        open_id = str(uuid.uuid4())
        name = str(fields.pop("display_name", None) or f"Creator {len(self.users) + 1}")
        user = FakeUser(
            open_id=open_id,
            union_id=str(uuid.uuid4()),
            display_name=name,
            username=str(fields.pop("username", None) or f"creator{len(self.users) + 1}"),
            avatar_url=str(
                fields.pop("avatar_url", None) or f"https://p16.tiktokcdn.example/{open_id}.jpeg"
            ),
            **fields,
        )
        with self.lock:
            self.users[open_id] = user
        return user

    def issue_code(
        self, open_id: str, scopes: tuple[str, ...], client_key: str, redirect_uri: str
    ) -> str:
        # Real codes carry characters that must be URL-decoded before the exchange (§1.3).
        code = secrets.token_urlsafe(40) + "*1!" + secrets.token_hex(4) + ".va"
        ledger.record(code)
        with self.lock:
            self.codes[code] = AuthCode(
                code=code,
                client_key=client_key,
                redirect_uri=redirect_uri,
                open_id=open_id,
                scopes=scopes,
                expires_at=self.now() + self.config.code_expires_in,
            )
        return code

    def new_authorization(self, code: AuthCode) -> tuple[Authorization, str]:
        """A fresh authorization for a redeemed code, and its first access token."""
        with self.lock:
            now = self.now()
            auth = Authorization(
                id=uuid.uuid4().hex,
                open_id=code.open_id,
                client_key=code.client_key,
                scopes=code.scopes,
                refresh_token=_token("rft."),
                refresh_expires_at=now + self.config.refresh_expires_in,
                created_at=now,
            )
            self.authorizations[auth.id] = auth
            self.by_refresh[auth.refresh_token] = auth.id
            return auth, self.new_access_token(auth)

    def new_access_token(self, auth: Authorization) -> str:
        with self.lock:
            token = _token("act.")
            auth.access_tokens[token] = self.now() + self.config.access_expires_in
            self.by_access[token] = auth.id
            return token

    def rotate_refresh_token(self, auth: Authorization) -> None:
        """The previous refresh token stops working; the lifetime does not restart (§1.7)."""
        with self.lock:
            self.by_refresh.pop(auth.refresh_token, None)
            auth.refresh_token = _token("rft.")
            self.by_refresh[auth.refresh_token] = auth.id

    def authorization_for_access(self, token: str) -> Authorization | None:
        """The live authorization an unexpired, unrevoked access token belongs to."""
        with self.lock:
            auth = self.authorizations.get(self.by_access.get(token, ""))
            if auth is None or auth.revoked or auth.access_tokens.get(token, 0) <= self.now():
                return None
            return auth

    def authorization_for_refresh(self, token: str) -> Authorization | None:
        with self.lock:
            auth = self.authorizations.get(self.by_refresh.get(token, ""))
            if auth is None or auth.revoked or auth.refresh_expires_at <= self.now():
                return None
            return auth

    def revoke(self, auth: Authorization) -> None:
        with self.lock:
            auth.revoked = True
            self.by_refresh.pop(auth.refresh_token, None)
            for token in auth.access_tokens:
                self.by_access.pop(token, None)

    def take_failure(self, endpoint: str) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.endpoint == endpoint and failure.times > 0:
                    failure.times -= 1
                    return failure
            return None

    def rate_limited(self, endpoint: str, token: str) -> int | None:
        """Count this call in the token's sliding window; seconds to wait when over the limit.

        The window runs on the fake's clock, so ``/_control/advance`` ends it too (a test of
        "the seventh init waits for the next minute" need not wait a minute)."""
        limit = self.config.rate_limits.get(endpoint)
        if limit is None:
            return None
        with self.lock:
            now = self.now()
            window = self.windows[(endpoint, token)]
            while window and window[0] <= now - WINDOW_SECONDS:
                window.popleft()
            if len(window) >= limit:  # (a limit of 0 refuses every call, for a whole window)
                oldest = window[0] if window else now
                return max(1, int(oldest + WINDOW_SECONDS - now) + 1)
            window.append(now)
            return None
