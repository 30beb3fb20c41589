"""PNG and HEIC photos turned into JPEG on completion, so that what phones and screenshots make
can be posted: TikTok takes photos only as JPEG or WebP (docs/media.md).

The photo is re-encoded anyway, so a converted photo is also fitted within TikTok's 1080p
(aspect ratio kept), turned upright by its EXIF orientation, and written without metadata (no
camera EXIF, no GPS position). JPEG and WebP files are never re-encoded: they are checked as they
are. HEIC is read by pillow-heif (libheif), registered with Pillow here on first use.

Memory: a decoded photo takes width x height x 4 bytes, so the source is refused above
:data:`MAX_SOURCE_PIXELS` (before decoding, from its header), and at most :data:`CONCURRENT`
conversions run at once in one instance; the rest wait their turn.
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
MAX_SOURCE_PIXELS = 50_000_000  # A 48 MP phone photo (8064 x 6048) fits; 200 MB decoded.
CONCURRENT = 2
JPEG_QUALITY = 90
_turns = threading.BoundedSemaphore(CONCURRENT)
_heif_lock = threading.Lock()
_heif_ready = False


@dataclass(frozen=True)
class Converted:
    data: bytes
    width: int
    height: int
    source_width: int
    source_height: int


def _register_heif() -> None:
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            from pillow_heif import register_heif_opener

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
    """``data`` (PNG or HEIC) as an upright JPEG fitted within the bounds; raises if unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

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
                upright = ImageOps.exif_transpose(image)
                rgb = _flatten(upright)
                size = fit(rgb.width, rgb.height, long_max, short_max)
                if size != rgb.size:
                    rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
                out = io.BytesIO()
                rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise errors.FailedPrecondition(
                "this photo could not be decoded as an image", reason="media.photo_unreadable"
            ) from exc
    return Converted(out.getvalue(), size[0], size[1], source_width, source_height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (JPEG has no alpha; black would show)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
