"""PNG and HEIC to JPEG on completion: fitted within 1080p, upright, flattened on white, without
metadata; unreadable or oversized sources refused with the reason and the limit."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from shared import errors
from shared.media import convert
from shared.media.convert import fit, to_jpeg
from shared.media.probe import sniff


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_fit_keeps_the_ratio_within_1080p_either_way_round() -> None:
    assert fit(1080, 1350, 1920, 1080) == (1080, 1350)
    assert fit(4032, 3024, 1920, 1080) == (1440, 1080)
    assert fit(3024, 4032, 1920, 1080) == (1080, 1440)
    assert fit(1170, 2532, 1920, 1080) == (887, 1920)
    assert fit(5000, 500, 1920, 1080) == (1920, 192)


def test_a_png_screenshot_becomes_a_jpeg_within_1080p() -> None:
    png = encoded(Image.new("RGB", (1170, 2532), (30, 120, 200)), "PNG")
    done = to_jpeg(png, "image/png", 1920, 1080)
    assert sniff(done.data) == "image/jpeg"
    assert (done.width, done.height) == (887, 1920)
    assert (done.source_width, done.source_height) == (1170, 2532)
    image = decoded(done.data)
    assert image.size == (887, 1920)
    assert image.getpixel((400, 900)) == pytest.approx((30, 120, 200), abs=3)


def test_transparency_is_laid_over_white_and_a_small_png_keeps_its_size() -> None:
    clear = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    clear.paste((200, 0, 0, 255), (0, 0, 100, 100))
    done = to_jpeg(encoded(clear, "PNG"), "image/png", 1920, 1080)
    image = decoded(done.data)
    assert image.size == (200, 100)
    assert image.getpixel((50, 50)) == pytest.approx((200, 0, 0), abs=6)
    assert image.getpixel((150, 50)) == pytest.approx((255, 255, 255), abs=3)


def test_a_heic_photo_is_read_turned_upright_and_written_without_metadata() -> None:
    photo = Image.new("RGB", (1600, 1200), (10, 160, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show it upright
    exif[0x010F] = "PhoneMaker"
    heic = encoded(photo, "HEIF", quality=80, exif=exif.tobytes())
    assert sniff(heic) == "image/heic"
    done = to_jpeg(heic, "image/heic", 1920, 1080)
    image = decoded(done.data)
    assert sniff(done.data) == "image/jpeg"
    assert image.size == (done.width, done.height)
    assert image.size == (1080, 1440)  # 1200x1600 upright, fitted within 1080p
    assert image.width < image.height  # upright: the orientation was applied, not carried
    assert not image.getexif()
    assert image.getpixel((image.width // 2, image.height // 2)) == pytest.approx(
        (10, 160, 40), abs=8
    )


def test_an_unreadable_or_oversized_source_is_refused_with_its_reason() -> None:
    with pytest.raises(errors.FailedPrecondition) as exc:
        to_jpeg(b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png", 1920, 1080)
    assert exc.value.reason == "media.photo_unreadable"
    with pytest.raises(errors.FailedPrecondition) as exc:
        to_jpeg(b"\0\0\0\x18ftypheic" + b"\0" * 100, "image/heic", 1920, 1080)
    assert exc.value.reason == "media.photo_unreadable"


def test_a_source_past_the_pixel_limit_is_refused_before_it_is_decoded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(convert, "MAX_SOURCE_PIXELS", 100 * 100)
    png = encoded(Image.new("RGB", (101, 100)), "PNG")
    with pytest.raises(errors.FailedPrecondition) as exc:
        to_jpeg(png, "image/png", 1920, 1080)
    assert exc.value.reason == "media.photo_pixels"
    assert exc.value.details == {"limit": 100 * 100}
    assert "101x100 px" in exc.value.message


def test_without_pillow_heif_a_heic_photo_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heic = encoded(Image.new("RGB", (64, 48), (1, 2, 3)), "HEIF", quality=50)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if it were not installed
    monkeypatch.setattr(convert, "_heif_ready", False)
    with pytest.raises(errors.FailedPrecondition) as exc:
        to_jpeg(heic, "image/heic", 1920, 1080)
    assert exc.value.reason == "media.photo_type"
    assert "export it as JPEG" in exc.value.message
    png = encoded(Image.new("RGB", (64, 48)), "PNG")
    assert to_jpeg(png, "image/png", 1920, 1080).width == 64
