"""What a publish request may say: its shape, and TikTok's rules against fresh creator info.

Pure functions, no I/O. :func:`parse_request` turns the JSON body of ``POST /api/publish`` (or a
draft) into a :class:`PublishRequest`, refusing malformed input with ``INVALID_ARGUMENT`` naming the
field. :func:`check_against_creator` applies the Direct Post rules (docs/tiktok-api.md §3.1, §3.2,
§3.4, §6; https://developers.tiktok.com/docs/en/content-sharing-guidelines) to fresh creator info:
a privacy level must be chosen from the offered options (there is no default, ever), disabled
interactions stay off, the video fits the creator's maximum duration, branded content is never
private. The API itself enforces only part of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from shared import errors
from shared.publishing.chunks import MAX_VIDEO_BYTES
from shared.tiktok.settings import BOOLEAN_SETTINGS, SETTINGS, PostSettings
from shared.web.fields import reject_unknown

MODES = ("direct", "inbox")
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
VIDEO_TITLE_MAX = 2200  # UTF-16 code units (§3.2)
PHOTO_TITLE_MAX = 90  # (§3.4)
PHOTO_DESCRIPTION_MAX = 4000
MAX_PHOTOS = 35
API_MAX_DURATION_SEC = 600  # "API max 10 min" (§3.5 media limits)
REQUEST_FIELDS = ("open_id", "mode", "media", "post", "duration_sec")
_MEDIA_FIELDS = {
    ("video", "file"): ("type", "source", "size", "chunk_size"),
    ("video", "url"): ("type", "source", "url"),
    ("photo", None): ("type", "urls", "cover_index"),
    ("video", "staged"): ("type", "source", "media_id"),
    ("photo", "staged"): ("type", "media_ids", "cover_index"),
}


@dataclass(frozen=True)
class Media:
    type: str  # video | photo
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    size: int | None = None
    chunk_size: int | None = None  # the largest chunk the client wants to send (file uploads)
    url: str | None = None
    photo_urls: tuple[str, ...] = ()
    cover_index: int = 0
    media_ids: tuple[str, ...] = ()  # staged media (shared/media): URLs are built at init

    @property
    def staged(self) -> bool:
        return bool(self.media_ids)


@dataclass(frozen=True)
class PublishRequest:
    open_id: str
    mode: str
    media: Media
    post: PostSettings = field(default_factory=PostSettings)
    duration_sec: float | None = None

    @property
    def needs_creator_info(self) -> bool:
        """Direct posts follow the creator-info rules; inbox uploads are finished in TikTok."""
        return self.mode == "direct"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_request(body: Mapping[str, Any], *, loopback_http: bool = False) -> PublishRequest:
    """A complete publish request, or INVALID_ARGUMENT naming the first bad field.

    ``loopback_http`` admits plain-http media URLs on a loopback host: only the local stack
    (a ``demo-`` project) sets it, for its media server.
    """
    reject_unknown(body, REQUEST_FIELDS)
    open_id = body.get("open_id")
    if not isinstance(open_id, str) or not open_id:
        raise _bad("open_id", "open_id is required: the TikTok account to publish to")
    mode = body.get("mode")
    if mode not in MODES:
        raise _bad("mode", "mode must be 'direct' (post now) or 'inbox' (send as a draft)")
    media = _media(body.get("media"), loopback_http)
    post = _post(body.get("post", {}), media)
    duration = body.get("duration_sec")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0
    ):
        raise _bad("duration_sec", "duration_sec must be a positive number of seconds")
    if media.type == "video" and mode == "direct" and duration is None and not media.staged:
        raise _bad(
            "duration_sec",
            "duration_sec is required for a video Direct Post: TikTok limits each creator's "
            "video length",
        )
    if duration is not None and duration > API_MAX_DURATION_SEC and media.type == "video":
        raise _bad("duration_sec", "TikTok's API accepts videos of at most 10 minutes")
    return PublishRequest(open_id, mode, media, post, float(duration) if duration else None)


def check_against_creator(request: PublishRequest, creator: Mapping[str, Any]) -> None:
    """TikTok's Direct Post rules against fresh creator info; raises naming the broken rule."""
    post = request.post
    options = list(creator.get("privacy_level_options", []))
    if post.privacy_level is None:
        raise errors.InvalidArgument(
            "choose a privacy level: TikTok requires the creator to pick one, there is no default",
            reason="post.privacy_level_missing",
            options=options,
        )
    if post.privacy_level not in options:
        raise errors.FailedPrecondition(
            f"privacy level {post.privacy_level} is not offered to this creator now; "
            f"choose one of {', '.join(options)}",
            reason="tiktok.privacy_level_option_mismatch",
            options=options,
        )
    disabled = [("allow_comment", "comment_disabled", "comments")]
    if request.media.type == "video":
        disabled += [
            ("allow_duet", "duet_disabled", "duets"),
            ("allow_stitch", "stitch_disabled", "stitches"),
        ]
    for setting, flag, what in disabled:
        if getattr(post, setting) and creator.get(flag):
            raise errors.FailedPrecondition(
                f"this creator has turned {what} off; {setting} must be false",
                reason=f"post.{setting}_disabled_by_creator",
            )
    limit = creator.get("max_video_post_duration_sec")
    if (
        request.media.type == "video"
        and isinstance(limit, int)
        and request.duration_sec is not None
        and request.duration_sec > limit
    ):
        raise errors.FailedPrecondition(
            f"the video is {request.duration_sec:g} s long; this creator may post at most "
            f"{limit} s",
            reason="post.duration_too_long",
            max_video_post_duration_sec=limit,
        )


def _media(raw: object, loopback_http: bool) -> Media:
    if not isinstance(raw, dict):
        raise _bad("media", "media is required: {type: video|photo, ...}")
    kind = raw.get("type")
    if kind == "video":
        source = raw.get("source")
        if source in ("file", "url"):
            reject_unknown(raw, _MEDIA_FIELDS[("video", source)], "media")
        if source == "file":
            size = raw.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise _bad("media.size", "media.size must be the file's size in bytes")
            if size > MAX_VIDEO_BYTES:
                raise _bad("media.size", "TikTok accepts videos of at most 4 GB")
            chunk = raw.get("chunk_size")
            if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int)):
                raise _bad("media.chunk_size", "media.chunk_size must be a number of bytes")
            return Media("video", "FILE_UPLOAD", size=size, chunk_size=chunk)
        if source == "staged":
            reject_unknown(raw, _MEDIA_FIELDS[("video", "staged")], "media")
            media_id = raw.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise _bad("media.media_id", "media.media_id must name a staged video")
            return Media("video", "PULL_FROM_URL", media_ids=(media_id,))
        if source == "url":
            return Media(
                "video", "PULL_FROM_URL", url=_https_url(raw.get("url"), "media.url", loopback_http)
            )
        raise _bad(
            "media.source",
            "media.source must be 'file' (upload), 'url' (TikTok pulls) or 'staged' (media_id)",
        )
    if kind == "photo" and "media_ids" in raw:
        return _staged_photos(raw)
    if kind == "photo":
        reject_unknown(raw, _MEDIA_FIELDS[("photo", None)], "media")
        urls = raw.get("urls")
        if not isinstance(urls, list) or not urls:
            raise _bad("media.urls", "media.urls must list the photos' https URLs")
        if len(urls) > MAX_PHOTOS:
            raise _bad("media.urls", f"a photo post has at most {MAX_PHOTOS} photos")
        checked = tuple(
            _https_url(u, f"media.urls[{i}]", loopback_http) for i, u in enumerate(urls)
        )
        cover = raw.get("cover_index", 0)
        if isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover < len(checked):
            raise _bad("media.cover_index", f"media.cover_index must be 0 to {len(checked) - 1}")
        return Media("photo", "PULL_FROM_URL", photo_urls=checked, cover_index=cover)
    raise _bad("media.type", "media.type must be 'video' or 'photo'")


def _staged_photos(raw: dict[str, Any]) -> Media:
    reject_unknown(raw, _MEDIA_FIELDS[("photo", "staged")], "media")
    ids = raw.get("media_ids")
    if not isinstance(ids, list) or not ids:
        raise _bad("media.media_ids", "media.media_ids must list the staged photos' ids")
    if len(ids) > MAX_PHOTOS:
        raise _bad(
            "media.media_ids", f"a photo post has at most {MAX_PHOTOS} photos; this has {len(ids)}"
        )
    if not all(isinstance(i, str) and i for i in ids) or len(set(ids)) != len(ids):
        raise _bad("media.media_ids", "media.media_ids must be distinct staged media ids")
    cover = raw.get("cover_index", 0)
    if isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover < len(ids):
        raise _bad("media.cover_index", f"media.cover_index must be 0 to {len(ids) - 1}")
    return Media("photo", "PULL_FROM_URL", media_ids=tuple(ids), cover_index=cover)


def _post(raw: object, media: Media) -> PostSettings:
    if not isinstance(raw, dict):
        raise _bad("post", "post must be an object")
    reject_unknown(raw, SETTINGS, "post")
    values: dict[str, Any] = {}
    for name in BOOLEAN_SETTINGS:
        value = raw.get(name, False)
        if not isinstance(value, bool):
            raise _bad(f"post.{name}", f"post.{name} must be true or false")
        values[name] = value
    for name in ("title", "description"):
        value = raw.get(name, "")
        if not isinstance(value, str):
            raise _bad(f"post.{name}", f"post.{name} must be text")
        values[name] = value
    title_max = PHOTO_TITLE_MAX if media.type == "photo" else VIDEO_TITLE_MAX
    if utf16_len(values["title"]) > title_max:
        raise _bad("post.title", f"post.title is longer than {title_max} UTF-16 units")
    if values["description"] and media.type != "photo":
        raise _bad("post.description", "post.description is for photo posts; videos use title")
    if utf16_len(values["description"]) > PHOTO_DESCRIPTION_MAX:
        raise _bad(
            "post.description", f"post.description is longer than {PHOTO_DESCRIPTION_MAX} units"
        )
    privacy = raw.get("privacy_level")
    if privacy is not None and privacy not in PRIVACY_LEVELS:
        raise _bad("post.privacy_level", f"post.privacy_level must be one of {PRIVACY_LEVELS}")
    values["privacy_level"] = privacy
    cover = raw.get("cover_timestamp_ms")
    cover_max = API_MAX_DURATION_SEC * 1000  # a frame of the video, so within its length
    if cover is not None and (
        isinstance(cover, bool) or not isinstance(cover, int) or not 0 <= cover <= cover_max
    ):
        raise _bad(
            "post.cover_timestamp_ms",
            f"post.cover_timestamp_ms must be a whole number of ms from 0 to {cover_max}",
        )
    values["cover_timestamp_ms"] = cover
    settings = PostSettings(**values)
    if settings.disclose_commercial_content and not (
        settings.brand_content or settings.brand_organic
    ):
        raise errors.InvalidArgument(
            "You need to indicate if your content promotes yourself, a third party, or both.",
            reason="post.commercial_disclosure_incomplete",
        )
    if settings.brand_content and settings.privacy_level == "SELF_ONLY":
        raise errors.InvalidArgument(
            "Branded content visibility cannot be set to private.",
            reason="post.branded_content_private",
        )
    return settings


def _https_url(raw: object, name: str, loopback_http: bool) -> str:
    if not isinstance(raw, str) or not raw:
        raise _bad(name, f"{name} must be an https URL")
    parts = urlsplit(raw)
    local = (
        loopback_http and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    )
    if (parts.scheme != "https" and not local) or not parts.hostname:
        raise _bad(name, f"{name} must be an https URL (TikTok pulls media only over https)")
    return raw


def _bad(name: str, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(message, reason=f"request.{name}", field=name)
