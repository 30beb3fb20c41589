"""What the fake's init endpoints check in a request body (docs/tiktok-api.md §3.2-3.5, §7).

Pure functions that raise :class:`Refused` with TikTok's HTTP status and error code; the endpoints
in :mod:`emulator.tiktok.publish_init` turn it into the v2 envelope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide. The doc never
# says whether MB is 10**6 or 2**20; its example uses decimal, so the fake enforces decimal.
MIN_CHUNK = 5_000_000
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO = 4_000_000_000

PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
VIDEO_SOURCES = ("FILE_UPLOAD", "PULL_FROM_URL")
VIDEO_BOOLS = (
    "disable_duet",
    "disable_stitch",
    "disable_comment",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
PHOTO_BOOLS = ("disable_comment", "auto_add_music", "brand_content_toggle", "brand_organic_toggle")
MAX_PHOTOS = 35


class Refused(Exception):
    """An init TikTok would refuse: HTTP ``status`` and v2 ``code`` with ``message``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FilePlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int


def invalid(message: str) -> Refused:
    return Refused(400, "invalid_param", message)


def utf16_units(text: str) -> int:
    """Length as TikTok counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _object(body: Mapping[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    value = body.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{name} must be an object")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_text(info: Mapping[str, Any], name: str, limit: int) -> None:
    value = info.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        raise invalid(f"post_info.{name} must be a string")
    if utf16_units(value) > limit:
        raise invalid(f"post_info.{name} is longer than {limit} UTF-16 code units")


def check_bools(info: Mapping[str, Any], names: Sequence[str], where: str = "post_info") -> None:
    for name in names:
        if name in info and not isinstance(info[name], bool):
            raise invalid(f"{where}.{name} must be a boolean")


def check_privacy(info: Mapping[str, Any], options: Sequence[str]) -> None:
    """Required for direct posts and one of creator_info's options; no default (§8)."""
    level = info.get("privacy_level")
    if level not in options:
        raise Refused(
            403,
            "privacy_level_option_mismatch",
            "privacy_level is missing or not one of the creator's privacy_level_options.",
        )


def video_post_info(body: Mapping[str, Any], options: Sequence[str]) -> dict[str, Any]:
    info = _object(body, "post_info")
    check_text(info, "title", 2200)
    check_bools(info, VIDEO_BOOLS)
    cover = info.get("video_cover_timestamp_ms")
    if cover is not None and not _is_int(cover):
        raise invalid("post_info.video_cover_timestamp_ms must be an integer")
    check_privacy(info, options)
    return info


def video_source(body: Mapping[str, Any]) -> tuple[dict[str, Any], FilePlan | None]:
    """source_info of a video init and, for FILE_UPLOAD, its checked chunk plan."""
    source = _object(body, "source_info")
    kind = source.get("source")
    if kind not in VIDEO_SOURCES:
        raise invalid("source_info.source must be FILE_UPLOAD or PULL_FROM_URL")
    if kind == "PULL_FROM_URL":
        if not isinstance(source.get("video_url"), str) or not source["video_url"]:
            raise invalid("source_info.video_url is required for PULL_FROM_URL")
        return source, None
    return source, file_plan(source)


def file_plan(source: Mapping[str, Any]) -> FilePlan:
    """The chunk rules of the media transfer guide, exactly (docs/tiktok-api.md §3.5)."""
    for name in ("video_size", "chunk_size", "total_chunk_count"):
        if not _is_int(source.get(name)):
            raise invalid(f"source_info.{name} must be an integer (not a string)")
    size, chunk, count = source["video_size"], source["chunk_size"], source["total_chunk_count"]
    if size <= 0 or size > MAX_VIDEO:
        raise invalid(f"video_size must be between 1 and {MAX_VIDEO} bytes")
    if size < MIN_CHUNK:
        if chunk != size or count != 1:
            raise invalid(
                "The chunk size is invalid: a file under 5 MB is one chunk with "
                "chunk_size == video_size"
            )
        return FilePlan(size, chunk, count)
    if not MIN_CHUNK <= chunk <= MAX_CHUNK:
        raise invalid(f"The chunk size is invalid: it must be {MIN_CHUNK}..{MAX_CHUNK} bytes")
    if chunk > size:
        raise invalid("The chunk size is invalid: it exceeds video_size")
    if count != size // chunk:
        raise invalid(
            f"total_chunk_count must be floor(video_size / chunk_size) = {size // chunk}; "
            "the remainder goes into the last chunk"
        )
    if not 1 <= count <= MAX_CHUNKS:
        raise invalid(f"total_chunk_count must be 1..{MAX_CHUNKS}")
    if size > MAX_CHUNK and count < 2:
        raise invalid(f"a file over {MAX_CHUNK} bytes must be sent in several chunks")
    if size - (count - 1) * chunk > MAX_LAST_CHUNK:
        raise invalid(f"the last chunk would exceed {MAX_LAST_CHUNK} bytes")
    return FilePlan(size, chunk, count)


def photo_body(
    body: Mapping[str, Any], options: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """post_info and source_info of a photo init (§3.4); post_mode was checked by the caller."""
    if body.get("media_type") != "PHOTO":
        raise invalid("media_type must be PHOTO")
    direct = body["post_mode"] == "DIRECT_POST"
    info = _object(body, "post_info", required=direct)
    check_text(info, "title", 90)
    check_text(info, "description", 4000)
    check_bools(info, PHOTO_BOOLS)
    if "is_aigc" in body and not isinstance(body["is_aigc"], bool):
        raise invalid("is_aigc must be a boolean")
    source = _object(body, "source_info")
    if source.get("source") != "PULL_FROM_URL":
        raise invalid("photo posts accept only source PULL_FROM_URL")
    images = source.get("photo_images")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_PHOTOS:
        raise invalid(f"source_info.photo_images must list 1..{MAX_PHOTOS} URLs")
    if not all(isinstance(url, str) and url for url in images):
        raise invalid("source_info.photo_images must be URLs")
    cover = source.get("photo_cover_index")
    if not isinstance(cover, int) or isinstance(cover, bool) or not 0 <= cover < len(images):
        raise invalid("source_info.photo_cover_index must index photo_images")
    if direct:
        check_privacy(info, options)
    return info, source


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_media_url(url: str, verified: Sequence[str]) -> None:
    """https only (http for loopback test servers), under a verified domain or URL prefix (§7)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))
    if not host or not secure:
        raise invalid("media URLs must be https")
    if not any(_covers(prop, url, host) for prop in verified):
        # TikTok's own fix is the developer portal; the fake's is its control API. Only the
        # origin is quoted: a media URL's path may carry a token.
        origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
        raise Refused(
            403,
            "url_ownership_unverified",
            "The media URL is not under a verified domain or URL prefix of this app. On the "
            "fake TikTok, verify it with POST /_control/config "
            f'{{"verified_url_prefixes": ["{origin}"]}} (docs/fake-tiktok.md).',
        )


def _covers(prop: str, url: str, host: str) -> bool:
    # A URL prefix covers URLs that start with it exactly; a domain covers its subdomains.
    if "://" in prop:
        return url.startswith(prop)
    domain = prop.lower().strip(".")
    return host == domain or host.endswith("." + domain)
