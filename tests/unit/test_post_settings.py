"""The post settings are declared once (shared/tiktok/settings.py): the parser, the stored post,
the API and TikTok's init body all follow that declaration."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.publishing.posts import PUBLIC_FIELDS, new_post_doc, public_post
from shared.publishing.rules import parse_request
from shared.tiktok.settings import SETTINGS, PostSettings, post_info

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_video_direct_posts_settings_become_tiktoks_post_info() -> None:
    settings = PostSettings(
        title="a #test",
        privacy_level="SELF_ONLY",
        allow_comment=True,
        allow_duet=False,
        allow_stitch=True,
        brand_organic=True,
        disclose_commercial_content=True,
        is_aigc=True,
        cover_timestamp_ms=1500,
    )
    assert post_info(settings, "video", direct=True) == {
        "title": "a #test",
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": False,
        "brand_content_toggle": False,
        "brand_organic_toggle": True,
        "is_aigc": True,
        "video_cover_timestamp_ms": 1500,
    }


def test_a_photo_posts_info_has_no_video_fields_and_an_inbox_post_no_privacy() -> None:
    settings = PostSettings(
        title="t", description="d", privacy_level="PUBLIC_TO_EVERYONE", auto_add_music=True
    )
    direct = post_info(settings, "photo", direct=True)
    assert direct == {
        "title": "t",
        "description": "d",
        "privacy_level": "PUBLIC_TO_EVERYONE",
        "disable_comment": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "auto_add_music": True,
    }
    assert "privacy_level" not in post_info(settings, "photo", direct=False)
    assert "video_cover_timestamp_ms" not in post_info(PostSettings(), "video", direct=True)


def test_every_declared_setting_is_parsed_stored_and_shown() -> None:
    body = {
        "open_id": "o1",
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": "https://media.example.com/v.mp4"},
        "post": {
            "title": "a",
            "privacy_level": "SELF_ONLY",
            "allow_comment": True,
            "allow_duet": True,
            "allow_stitch": True,
            "brand_organic": True,
            "disclose_commercial_content": True,
            "is_aigc": True,
            "cover_timestamp_ms": 10,
        },
        "duration_sec": 5,
    }
    request = parse_request(body)
    doc = new_post_doc(
        "u1",
        "p1",
        request,
        plan=None,
        draft_id=None,
        idempotency_id=None,
        status_check_at=None,
        now=NOW,
    )
    shown = public_post("p1", doc)
    stored: Mapping[str, object] = doc  # looked up by the settings' names
    for name in SETTINGS:
        assert name in PUBLIC_FIELDS
        assert stored[name] == getattr(request.post, name) == shown[name]
    assert shown["disclose_commercial_content"] is True
    assert shown["cover_timestamp_ms"] == 10
