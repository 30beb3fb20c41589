"""What an uploaded object really is: its type from its first bytes, a photo's dimensions
(Pillow), a video's duration from its container's ``mvhd`` box (MP4/MOV).

No I/O of its own: the caller passes a ``read_at(offset, length)`` over the object (ranged reads
from the bucket, or a bytes buffer in tests).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass

HEAD_BYTES = 256 * 1024  # Magic bytes and a photo's header (after EXIF up to 64 KiB) for Pillow.
_MAX_BOXES = 10_000


@dataclass(frozen=True)
class Probe:
    content_type: str | None  # None: not a type this service knows
    width: int | None = None
    height: int | None = None
    duration_sec: float | None = None


def sniff(head: bytes) -> str | None:
    """The content type its magic bytes say, among those TikTok takes and PNG/HEIC (refused)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis"):
            return "image/heic"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    return None


def photo_dimensions(head: bytes) -> tuple[int, int] | None:
    """(width, height) as Pillow reads them from the header; None if Pillow cannot read it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(head)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    return int(width), int(height)


ReadAt = Callable[[int, int], bytes]  # (offset, length) -> at most length bytes of the object


def mp4_duration(read_at: ReadAt, size: int) -> float | None:
    """Duration from the ``moov/mvhd`` box (ISO/IEC 14496-12 §8.2.2); None if it is not there.

    Walks the top-level boxes by their headers (a few bytes each), so ``moov`` is found whether it
    sits before the media data or after it (cameras often write it last), without reading the
    media data.
    """
    moov = _find_box(read_at, 0, size, b"moov")
    if moov is None:
        return None
    mvhd = _find_box(read_at, moov[0], moov[1], b"mvhd")
    if mvhd is None:
        return None
    body = read_at(mvhd[0], min(32, mvhd[1] - mvhd[0]))
    if len(body) < 4:
        return None
    try:
        if body[0] == 1:
            timescale, duration = struct.unpack_from(">IQ", body, 4 + 16)
        else:
            timescale, duration = struct.unpack_from(">II", body, 4 + 8)
    except struct.error:
        return None
    if not timescale or duration in (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
        return None
    seconds: float = round(float(duration) / timescale, 3)
    return seconds


def _find_box(read_at: ReadAt, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(body start, body end) of the first box ``kind`` among the siblings in [start, end)."""
    position = start
    for _ in range(_MAX_BOXES):
        if position + 8 > end:
            return None
        header = read_at(position, 16)
        if len(header) < 8:
            return None
        size, found = struct.unpack_from(">I4s", header, 0)
        length = 8
        if size == 1:
            if len(header) < 16:
                return None
            (size,) = struct.unpack_from(">Q", header, 8)
            length = 16
        elif size == 0:
            size = end - position
        if size < length:
            return None
        if found == kind:
            return position + length, min(position + size, end)
        position += size
    return None


def probe(read_at: ReadAt, size: int) -> Probe:
    """What the object is, read through ``read_at`` (its head, and box headers for videos)."""
    head = read_at(0, HEAD_BYTES)
    content_type = sniff(head)
    if content_type in ("image/jpeg", "image/webp", "image/png"):
        dims = photo_dimensions(head)
        return Probe(content_type, *(dims or (None, None)))
    if content_type in ("video/mp4", "video/quicktime"):
        return Probe(content_type, duration_sec=mp4_duration(read_at, size))
    return Probe(content_type)
