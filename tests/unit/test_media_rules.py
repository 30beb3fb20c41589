"""Staged media: the slot request, TikTok's photo and video rules, sniffing, MP4 duration,
/media/ tokens and byte ranges (pure functions; the bucket is covered by the integration tests)."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from shared import errors
from shared.config import Secret, SessionKey
from shared.media.probe import mp4_duration, probe, sniff
from shared.media.rules import MAX_PHOTO_BYTES, check_photo, check_video, parse_slot_request
from shared.media.serve import Unsatisfiable, parse_range
from shared.media.tokens import MediaGrant, MediaTokens


def image_bytes(fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, fmt)
    return out.getvalue()


def reader(data: bytes):  # type: ignore[no-untyped-def]
    return lambda offset, length: data[offset : offset + length]


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def mp4(seconds: float, *, moov_last: bool = False, version: int = 0) -> bytes:
    timescale = 1000
    if version == 0:
        mvhd = bytes([0, 0, 0, 0]) + struct.pack(">IIII", 0, 0, timescale, int(seconds * 1000))
    else:
        mvhd = bytes([1, 0, 0, 0]) + struct.pack(">QQIQ", 0, 0, timescale, int(seconds * 1000))
    moov = box(b"moov", box(b"mvhd", mvhd + b"\0" * 80))
    ftyp = box(b"ftyp", b"isom\0\0\0\0isommp41")
    mdat = box(b"mdat", b"\0" * 5000)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def test_a_slot_request_is_checked_before_any_byte_moves() -> None:
    ok = parse_slot_request({"type": "photo", "content_type": "image/jpeg", "size": 1000})
    assert (ok.type, ok.content_type, ok.size) == ("photo", "image/jpeg", 1000)
    for convertible in ("image/png", "image/heic", "image/heif"):  # converted on completion
        parse_slot_request({"type": "photo", "content_type": convertible, "size": 10})
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_slot_request({"type": "photo", "content_type": "image/gif", "size": 10})
    assert exc.value.reason == "request.content_type"
    assert "image/jpeg or image/webp" in exc.value.message
    assert "converted to JPEG" in exc.value.message
    with pytest.raises(errors.InvalidArgument):
        parse_slot_request({"type": "video", "content_type": "image/png", "size": 10})
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_slot_request(
            {"type": "photo", "content_type": "image/jpeg", "size": MAX_PHOTO_BYTES + 1}
        )
    assert exc.value.reason == "request.size"
    assert "at most" in exc.value.message
    with pytest.raises(errors.InvalidArgument) as exc:
        parse_slot_request({"type": "photo", "content_type": "image/jpeg", "size": 5, "name": "x"})
    assert exc.value.reason == "request.unknown_field"
    assert exc.value.field == "name"
    for bad in (0, -1, True, "10", None):
        with pytest.raises(errors.InvalidArgument):
            parse_slot_request({"type": "video", "content_type": "video/mp4", "size": bad})


def test_a_photo_breaking_a_rule_is_refused_by_its_index_with_the_limit() -> None:
    check_photo(0, "image/jpeg", 1000, 1080, 1920)
    check_photo(0, "image/webp", 1000, 1920, 1080)
    with pytest.raises(errors.FailedPrecondition) as exc:
        check_photo(2, "image/jpeg", 1000, 4032, 3024)
    assert exc.value.reason == "media.photo_dimensions"
    assert exc.value.details == {"limit": "1920x1080", "index": 2}
    assert exc.value.message.startswith("photo 3 is 4032x3024 px")
    with pytest.raises(errors.FailedPrecondition) as exc:
        check_photo(0, "image/png", 1000, 100, 100)
    assert exc.value.reason == "media.photo_type"
    assert exc.value.details["index"] == 0
    with pytest.raises(errors.FailedPrecondition) as exc:
        check_photo(1, "image/jpeg", MAX_PHOTO_BYTES + 1, 100, 100)
    assert exc.value.reason == "media.photo_size"
    assert exc.value.details == {"limit": MAX_PHOTO_BYTES, "index": 1}


def test_video_rules() -> None:
    check_video("video/mp4", 10, 59.5)
    check_video("video/quicktime", 10, None)
    with pytest.raises(errors.FailedPrecondition) as exc:
        check_video("video/mp4", 10, 601)
    assert exc.value.reason == "media.video_duration"
    assert exc.value.details == {"limit": 600}
    with pytest.raises(errors.FailedPrecondition) as exc:
        check_video("image/jpeg", 10, None)
    assert exc.value.reason == "media.video_type"


def test_the_type_comes_from_the_bytes_and_pillow_reads_the_dimensions() -> None:
    jpeg = image_bytes("JPEG", (640, 480))
    webp = image_bytes("WEBP", (300, 200))
    png = image_bytes("PNG", (10, 10))
    assert sniff(jpeg) == "image/jpeg"
    assert sniff(webp) == "image/webp"
    assert sniff(png) == "image/png"
    assert sniff(b"hello") is None
    found = probe(reader(jpeg), len(jpeg))
    assert (found.content_type, found.width, found.height) == ("image/jpeg", 640, 480)
    found = probe(reader(webp), len(webp))
    assert (found.content_type, found.width, found.height) == ("image/webp", 300, 200)
    broken = jpeg[:40]
    assert probe(reader(broken), len(broken)).width is None


@pytest.mark.parametrize("moov_last", [False, True])
@pytest.mark.parametrize("version", [0, 1])
def test_an_mp4s_duration_comes_from_its_mvhd_box(moov_last: bool, version: int) -> None:
    data = mp4(12.5, moov_last=moov_last, version=version)
    assert mp4_duration(reader(data), len(data)) == 12.5
    found = probe(reader(data), len(data))
    assert found.content_type == "video/mp4"
    assert found.duration_sec == 12.5
    assert mp4_duration(reader(data[:30]), 30) is None


def keys(*pairs: tuple[str, str]) -> list[SessionKey]:
    return [SessionKey(kid, Secret(secret)) for kid, secret in pairs]


def test_media_tokens_bind_user_post_media_and_expiry_and_rotate() -> None:
    old = MediaTokens(keys(("k1", "a" * 40)))
    grant = MediaGrant(uid="u1", post_id="p1", media_id="m1", expires_at=2000)
    token = old.issue(grant)
    assert old.verify(token, 1999) == grant
    assert old.verify(token, 2000) is None  # expired
    rotated = MediaTokens(keys(("k2", "b" * 40), ("k1", "a" * 40)))
    assert rotated.verify(token, 1000) == grant  # an old key still verifies
    assert MediaTokens(keys(("k2", "b" * 40))).verify(token, 1000) is None  # once dropped: gone
    version, kid, payload, mac = token.split(".")
    other = MediaTokens(keys(("k1", "c" * 40))).issue(grant)
    for bad in (
        f"{version}.{kid}.{payload}.{mac[:-2]}AA",
        f"{version}.{kid}.{other.split('.')[2]}x.{mac}",
        f"v2.{kid}.{payload}.{mac}",
        f"{version}.nokid.{payload}.{mac}",
        other,
        "",
        "a.b",
        "x" * 5000,
    ):
        assert old.verify(bad, 1000) is None, bad


def test_byte_ranges() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=50-500", 100) == (50, 99)
    assert parse_range("bytes=0-1,5-6", 100) is None  # several ranges: served whole
    assert parse_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=5-2", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            parse_range(bad, 100)
