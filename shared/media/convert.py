"""PNG and HEIC photos turned into JPEG on completion, so that what phones and screenshots make
can be posted: TikTok takes photos only as JPEG or WebP (docs/media.md).

The photo is re-encoded anyway, so a converted photo is also fitted within TikTok's 1080p
(aspect ratio kept), turned upright by its EXIF orientation, and written without metadata (no
camera EXIF, no GPS position). JPEG and WebP files are never re-encoded: they are checked as they
are. HEIC is read by pillow-heif (libheif), registered with Pillow here on first use.

Memory: a decoded photo takes width x height x 4 bytes, so the source is refused above
:data:`MAX_SOURCE_PIXELS` (before decoding, from its header), and at most :data:`CONCURRENT`
conversion runs at a time in one instance; the rest wait their turn.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import errors

if TYPE_CHECKING:
    from PIL import Image

CONVERTIBLE = ("image/png", "image/heic", "image/heif")
MAX_SOURCE_PIXELS = 50_000_000  # A 48 MP phone photo (8064 x 6048) fits.
CONCURRENT = 1  # 50 MP decodes to 150-200 MB; an instance has 512 MiB (deploy/table.py).
JPEG_QUALITY = 90
_turns = threading.BoundedSemaphore(CONCURRENT)
_ORIENTATION = 0x0112  # EXIF: how the stored pixels are turned from upright

_heif_lock = threading.Lock()
_heif_ready = False


# EXIF orientation -> the turn that makes the pixels upright (as PIL.ImageOps.exif_transpose),
# as PIL.Image.Transpose values: 0 FLIP_LEFT_RIGHT, 1 FLIP_TOP_BOTTOM, 2 ROTATE_90,
# 3 ROTATE_180, 4 ROTATE_270, 5 TRANSPOSE, 6 TRANSVERSE.
_TRANSPOSE: dict[int, int] = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}
_SIDEWAYS = (2, 4, 5, 6)  # the turns that swap width and height


@dataclass(frozen=True)
class Converted:
    data: bytes
    width: int
    height: int
    source_width: int
    source_height: int


def _register_heif() -> None:
    """Teach Pillow HEIC; a deployment without pillow-heif refuses HEIC photos by name."""
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            try:
                from pillow_heif import register_heif_opener
            except ImportError as exc:
                raise errors.FailedPrecondition(
                    "this photo is HEIC, which this deployment cannot convert; TikTok takes "
                    "photos only as JPEG or WebP: export it as JPEG",
                    reason="media.photo_type",
                    limit="image/jpeg or image/webp",
                ) from exc
            register_heif_opener()
            _heif_ready = True


def fit(width: int, height: int, long_max: int, short_max: int) -> tuple[int, int]:
    """The largest size within (long_max, short_max), either orientation, keeping the ratio."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, long_max / long_side, short_max / short_side)
    if scale == 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_jpeg(data: bytes, content_type: str, long_max: int, short_max: int) -> Converted:
    """``data`` (PNG or HEIC) as an upright JPEG fitted within the bounds; raises if unreadable.

    The decoded photo is scaled down first and only the small copy is turned and flattened, so
    the peak is the decoded photo plus the result, never several full-size copies.
    """
    from PIL import Image, UnidentifiedImageError

    if content_type != "image/png":
        _register_heif()
    with _turns:
        try:
            with Image.open(io.BytesIO(data)) as image:
                source_width, source_height = image.size
                if source_width * source_height > MAX_SOURCE_PIXELS:
                    raise errors.FailedPrecondition(
                        f"this photo is {source_width}x{source_height} px, more than the "
                        f"{MAX_SOURCE_PIXELS // 1_000_000} megapixels this service converts to "
                        "JPEG; save it as a smaller JPEG",
                        reason="media.photo_pixels",
                        limit=MAX_SOURCE_PIXELS,
                    )
                turn = _TRANSPOSE.get(int(image.getexif().get(_ORIENTATION, 1)))
                sideways = turn in _SIDEWAYS
                upright = (source_height, source_width) if sideways else image.size
                width, height = fit(*upright, long_max, short_max)
                stored = (height, width) if sideways else (width, height)
                small: Image.Image = image
                if stored != image.size:
                    small = image.resize(stored, Image.Resampling.LANCZOS, reducing_gap=3.0)
                if turn is not None:
                    small = small.transpose(Image.Transpose(turn))
                rgb = _flatten(small)
                out = io.BytesIO()
                rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise errors.FailedPrecondition(
                "this photo could not be decoded as an image", reason="media.photo_unreadable"
            ) from exc
    return Converted(out.getvalue(), width, height, source_width, source_height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (JPEG has no alpha; black would show)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
