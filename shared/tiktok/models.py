"""The values TikTok's APIs return, typed and validated at the edge.

:class:`TokenGrant` is what ``/v2/oauth/token/`` answers (docs/tiktok-api.md §1.5-1.7), UserInfo and
CreatorInfo are the JSON shapes of ``/v2/user/info/`` (§2.1) and creator_info (§3.1); InitResult,
ChunkAck and PublishStatus those of the publish init calls, the chunk upload and status/fetch
(§3.2-3.6). Parsing raises instead of letting a wrong type reach a service: a token grant with a
string ``expires_in`` would otherwise schedule refreshes wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict
from urllib.parse import urlencode

# Which /v2/user/info/ fields each scope allows
# (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info; profile_web_link is named only on
# https://developers.tiktok.com/doc/tiktok-api-scopes).
SCOPE_FIELDS: dict[str, tuple[str, ...]] = {
    "user.info.basic": (
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    ),
    "user.info.profile": (
        "bio_description",
        "profile_deep_link",
        "is_verified",
        "username",
        "profile_web_link",
    ),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
_FIELD_TYPES: dict[str, type] = {
    **{name: str for fields in SCOPE_FIELDS.values() for name in fields},
    "is_verified": bool,
    **{name: int for name in SCOPE_FIELDS["user.info.stats"]},
}


@dataclass(frozen=True)
class LoginKit:
    """TikTok's authorize page for this app: no HTTP client needed to send a user there."""

    auth_url: str
    client_key: str
    redirect_uri: str

    def authorize_url(self, *, state: str, scopes: Iterable[str]) -> str:
        """The consent page URL. Web apps send no PKCE parameters (docs/tiktok-api.md §1.4)."""
        query = urlencode(
            {
                "client_key": self.client_key,
                "scope": ",".join(scopes),  # comma, not space (§1.2)
                "redirect_uri": self.redirect_uri,
                "state": state,
                "response_type": "code",
            }
        )
        return f"{self.auth_url}?{query}"


def fields_for_scopes(scopes: Iterable[str]) -> list[str]:
    """Exactly the user/info fields the granted ``scopes`` allow, in TikTok's table order."""
    granted = set(scopes)
    return [name for scope, names in SCOPE_FIELDS.items() if scope in granted for name in names]


class UserInfo(TypedDict, total=False):
    """``data.user`` of ``/v2/user/info/``: only the fields that were asked for."""

    open_id: str
    union_id: str
    avatar_url: str
    avatar_url_100: str
    avatar_large_url: str
    display_name: str
    bio_description: str
    profile_deep_link: str
    profile_web_link: str
    is_verified: bool
    username: str
    follower_count: int
    following_count: int
    likes_count: int
    video_count: int


class CreatorInfo(TypedDict):
    """``data`` of ``/v2/post/publish/creator_info/query/`` (docs/tiktok-api.md §3.1)."""

    creator_avatar_url: NotRequired[str]
    creator_username: str
    creator_nickname: str
    privacy_level_options: list[str]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int


class MalformedValue(ValueError):
    """A TikTok answer whose fields have the wrong types; the client turns it into UNAVAILABLE."""


def _mask(token: str) -> str:
    prefix, dot, _ = token.partition(".")
    return f"{prefix}.***" if dot and len(prefix) <= 4 else "***"


@dataclass(frozen=True)
class TokenGrant:
    """An access token grant. ``*_expires_in`` are the remaining lifetimes in seconds: TikTok's
    pages disagree on the numbers (24 h / 365 d vs 2 h / 180 d), so callers schedule from these
    (https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token)."""

    open_id: str
    scopes: tuple[str, ...]
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str

    def __repr__(self) -> str:
        return (
            f"TokenGrant(open_id={self.open_id!r}, scopes={self.scopes!r}, "
            f"access_token={_mask(self.access_token)!r}, expires_in={self.expires_in}, "
            f"refresh_token={_mask(self.refresh_token)!r}, "
            f"refresh_expires_in={self.refresh_expires_in}, token_type={self.token_type!r})"
        )

    __str__ = __repr__

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TokenGrant:
        """Validate the flat token answer; raise MalformedValue naming the first bad field."""
        scope = body.get("scope", "")
        if not isinstance(scope, str):
            raise MalformedValue("scope is not a comma-separated string")
        token_type = body.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise MalformedValue("token_type is not Bearer")
        return cls(
            open_id=_text(body, "open_id"),
            scopes=tuple(s.strip() for s in scope.split(",") if s.strip()),
            access_token=_text(body, "access_token"),
            expires_in=_seconds(body, "expires_in"),
            refresh_token=_text(body, "refresh_token"),
            refresh_expires_in=_seconds(body, "refresh_expires_in"),
            token_type=token_type,
        )


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedValue(f"{name} is missing or not a string")
    return value


def _seconds(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    # bool is an int in Python; TikTok documents int64 seconds.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise MalformedValue(f"{name} is missing or not a positive whole number of seconds")
    return value


def _typed(value: object, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def parse_user_info(data: Mapping[str, Any], fields: Iterable[str]) -> UserInfo:
    """``data.user`` reduced to the asked ``fields``, each checked against its documented type."""
    user = data.get("user")
    if not isinstance(user, dict):
        raise MalformedValue("data.user is missing")
    info: dict[str, Any] = {}
    for name in fields:
        if name in user and user[name] is not None:
            expected = _FIELD_TYPES.get(name)
            if expected is None or not _typed(user[name], expected):
                raise MalformedValue(f"user.{name} has the wrong type")
            info[name] = user[name]
    return info  # type: ignore[return-value]  # keys and types were checked against UserInfo


def parse_creator_info(data: Mapping[str, Any]) -> CreatorInfo:
    """Creator info with every field the publish page relies on present and correctly typed."""
    options = data.get("privacy_level_options")
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise MalformedValue("privacy_level_options is not a list of strings")
    checks: dict[str, type] = {
        "creator_username": str,
        "creator_nickname": str,
        "comment_disabled": bool,
        "duet_disabled": bool,
        "stitch_disabled": bool,
        "max_video_post_duration_sec": int,
    }
    for name, expected in checks.items():
        if not _typed(data.get(name), expected):
            raise MalformedValue(f"{name} is missing or has the wrong type")
    info = CreatorInfo(
        creator_username=data["creator_username"],
        creator_nickname=data["creator_nickname"],
        privacy_level_options=list(options),
        comment_disabled=data["comment_disabled"],
        duet_disabled=data["duet_disabled"],
        stitch_disabled=data["stitch_disabled"],
        max_video_post_duration_sec=data["max_video_post_duration_sec"],
    )
    avatar = data.get("creator_avatar_url")
    if isinstance(avatar, str):
        info["creator_avatar_url"] = avatar
    return info


# Display API (docs/tiktok-api.md §2.2-2.4) -------------------------------------------------------

# The most videos one video/list page holds, and the most ids one video/query names. Here, with
# the other plain values, so the services that page through videos can use it without importing
# the client (httpx) along with it.
MAX_COUNT = 20


# Content Posting (docs/tiktok-api.md §3.2-3.6) ----------------------------------------------------


@dataclass(frozen=True)
class InitResult:
    """A publish TikTok accepted: its id, and for FILE_UPLOAD the upload URL, valid one hour
    (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post). The URL is a
    bearer credential for the upload, so ``repr`` masks it."""

    publish_id: str
    upload_url: str | None

    def __repr__(self) -> str:
        url = "***" if self.upload_url else None
        return f"InitResult(publish_id={self.publish_id!r}, upload_url={url!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class ChunkAck:
    """TikTok's answer to one chunk: ``complete`` on 201 (all parts received), else 206."""

    complete: bool
    uploaded_bytes: int


class PublishStatus(TypedDict, total=False):
    """``data`` of ``/v2/post/publish/status/fetch/``; post ids as strings (they exceed 2**53)."""

    status: str
    fail_reason: str
    post_ids: list[str]
    uploaded_bytes: int
    downloaded_bytes: int


def parse_init(data: Mapping[str, Any], *, file_upload: bool) -> InitResult:
    """An init answer: a publish id always, an upload URL exactly for FILE_UPLOAD."""
    publish_id = _text(data, "publish_id")
    upload_url = data.get("upload_url")
    if file_upload:
        upload_url = _text(data, "upload_url")
    elif upload_url is not None and not isinstance(upload_url, str):
        raise MalformedValue("upload_url is not a string")
    return InitResult(publish_id=publish_id, upload_url=upload_url or None)


def _post_id(value: object) -> str:
    # A float would already have lost digits (ids exceed 2**53): refuse it rather than guess.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    raise MalformedValue("a post id is not a whole number")


def parse_publish_status(data: Mapping[str, Any]) -> PublishStatus:
    """status/fetch's ``data``, with ``publicaly_available_post_id`` (sic) as ``post_ids``."""
    status = data.get("status")
    if not isinstance(status, str) or not status:
        raise MalformedValue("status is missing or not a string")
    result = PublishStatus(status=status)
    reason = data.get("fail_reason")
    if isinstance(reason, str) and reason:
        result["fail_reason"] = reason
    # TikTok's spelling is "publicaly"; accept the correct one too, defensively (§8).
    ids = data.get("publicaly_available_post_id", data.get("publicly_available_post_id"))
    if ids is not None:
        if not isinstance(ids, list):
            raise MalformedValue("publicaly_available_post_id is not a list")
        result["post_ids"] = [_post_id(value) for value in ids]
    for name in ("uploaded_bytes", "downloaded_bytes"):
        value = data.get(name)
        if value is not None:
            if not _typed(value, int):
                raise MalformedValue(f"{name} is not a whole number")
            result[name] = value
    return result


_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_UNSATISFIED = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


def uploaded_from_content_range(header: str | None) -> int | None:
    """Bytes TikTok holds, from its progress header ``bytes 0-{last}/{total}`` (last + 1), or 0
    for ``bytes */{total}``; None when absent or unreadable."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match:
        return int(match.group(2)) + 1
    return 0 if _UNSATISFIED.match(header) else None
