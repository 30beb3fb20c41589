"""What TikTok takes as staged media, checked before any byte moves and again on the real bytes.

Limits from TikTok's Content Posting API media requirements
(https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide): photos are
JPEG or WebP, at most 20 MB and at most 1080p; videos are MP4, WebM or MOV, at most 4 GB and
10 minutes through the API; a photo post carries at most 35 photos
(https://developers.tiktok.com/docs/en/content-posting-api-reference-photo-post). TikTok fails a
whole carousel without saying which image broke a rule, so every refusal here names the photo's
index and the limit (docs/media.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared import errors
from shared.media.convert import CONVERTIBLE
from shared.publishing.chunks import MAX_VIDEO_BYTES
from shared.publishing.rules import API_MAX_DURATION_SEC, MAX_PHOTOS
from shared.web.fields import reject_unknown

PHOTO_TYPES = ("image/jpeg", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime")
MAX_PHOTO_BYTES = 20 * 1024 * 1024
# "1080p": the long side at most 1920 px and the short side at most 1080 px, either orientation.
PHOTO_LONG_SIDE_MAX = 1920
PHOTO_SHORT_SIDE_MAX = 1080
_BODY_FIELDS = ("type", "content_type", "size")

__all__ = ["MAX_PHOTOS", "SlotRequest", "check_photo", "check_video", "parse_slot_request"]


@dataclass(frozen=True)
class SlotRequest:
    type: str  # photo | video
    content_type: str
    size: int


def parse_slot_request(body: Mapping[str, Any]) -> SlotRequest:
    """``POST /api/media``'s body, refused before any byte moves if TikTok would refuse it."""
    reject_unknown(body, _BODY_FIELDS)
    kind = body.get("type")
    if kind not in ("photo", "video"):
        raise _bad("type", "type must be 'photo' or 'video'")
    content_type = body.get("content_type")
    allowed = PHOTO_TYPES + CONVERTIBLE if kind == "photo" else VIDEO_TYPES
    if content_type not in allowed:
        takes = " or ".join(PHOTO_TYPES if kind == "photo" else VIDEO_TYPES)
        also = f" ({', '.join(CONVERTIBLE)} are converted to JPEG)" if kind == "photo" else ""
        raise _bad(
            "content_type",
            f"TikTok takes {kind}s as {takes}{also}; content_type {content_type!r} is not",
        )
    size = body.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise _bad("size", "size must be the file's size in bytes")
    limit = MAX_PHOTO_BYTES if kind == "photo" else MAX_VIDEO_BYTES
    if size > limit:
        raise _bad("size", f"TikTok takes {kind}s of at most {_mb(limit)}; this one is {_mb(size)}")
    return SlotRequest(kind, str(content_type), size)


def check_photo(
    index: int | None, content_type: str | None, size: int, width: int | None, height: int | None
) -> None:
    """A photo's real bytes against TikTok's rules; raises naming the photo and the limit."""
    which = "this photo" if index is None else f"photo {index + 1}"
    details: dict[str, Any] = {} if index is None else {"index": index}
    if content_type not in PHOTO_TYPES:
        found = content_type or "not an image this service can read"
        raise errors.FailedPrecondition(
            f"{which} is {found}; TikTok takes photos only as JPEG or WebP",
            reason="media.photo_type",
            limit="image/jpeg or image/webp",
            **details,
        )
    if size > MAX_PHOTO_BYTES:
        raise errors.FailedPrecondition(
            f"{which} is {_mb(size)}; TikTok takes photos of at most {_mb(MAX_PHOTO_BYTES)}",
            reason="media.photo_size",
            limit=MAX_PHOTO_BYTES,
            **details,
        )
    if width is None or height is None:
        raise errors.FailedPrecondition(
            f"{which} could not be decoded as an image",
            reason="media.photo_unreadable",
            **details,
        )
    long_side, short_side = max(width, height), min(width, height)
    if long_side > PHOTO_LONG_SIDE_MAX or short_side > PHOTO_SHORT_SIDE_MAX:
        raise errors.FailedPrecondition(
            f"{which} is {width}x{height} px; TikTok takes photos of at most 1080p "
            f"({PHOTO_LONG_SIDE_MAX}x{PHOTO_SHORT_SIDE_MAX} px, either orientation)",
            reason="media.photo_dimensions",
            limit=f"{PHOTO_LONG_SIDE_MAX}x{PHOTO_SHORT_SIDE_MAX}",
            **details,
        )


def check_video(content_type: str | None, size: int, duration_sec: float | None) -> None:
    if content_type not in VIDEO_TYPES:
        raise errors.FailedPrecondition(
            f"the file is {content_type or 'not a video this service can read'}; TikTok takes "
            "videos as MP4, WebM or MOV",
            reason="media.video_type",
            limit="video/mp4, video/webm or video/quicktime",
        )
    if size > MAX_VIDEO_BYTES:
        raise errors.FailedPrecondition(
            f"the video is {_mb(size)}; TikTok takes videos of at most 4 GB",
            reason="media.video_size",
            limit=MAX_VIDEO_BYTES,
        )
    if duration_sec is not None and duration_sec > API_MAX_DURATION_SEC:
        raise errors.FailedPrecondition(
            f"the video is {duration_sec:g} s long; TikTok's API takes videos of at most "
            f"{API_MAX_DURATION_SEC} s",
            reason="media.video_duration",
            limit=API_MAX_DURATION_SEC,
        )


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size < 1_000_000_000 else f"{size / 1e9:.2f} GB"


def _bad(name: str, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(message, reason=f"request.{name}")
