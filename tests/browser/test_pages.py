"""Every page at desktop and phone width: no serious or critical axe-core violation, and (with
SCREENSHOTS_DIR set, as ``scripts/screenshots`` does) a screenshot of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Route, ViewportSize, expect

from tests.browser.conftest import DESKTOP, PHONE, Web
from tests.browser.media import FIXTURES, padded_video
from tests.browser.pages import assert_accessible, choose_privacy, choose_video_file, shoot
from tests.browser.seed import seed_days


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_is_accessible(
    web: Web, creator: dict[str, Any], viewport: ViewportSize, tmp_path: Path
) -> None:
    page = web.page
    page.set_viewport_size(viewport)
    web.fake.control(
        "POST",
        f"users/{creator['open_id']}/videos",
        json={
            "videos": [
                {
                    "title": title,
                    "cover_image_url": web.assets.url("cover.jpg"),
                    "view_count": views,
                    "like_count": views // 12,
                    "comment_count": views // 90,
                    "share_count": views // 200,
                }
                for title, views in (
                    ("Morning light over the harbour #sunrise", 18230),
                    ("Three-minute pasta, no shortcuts", 96120),
                    ("Studio tour: where the edits happen", 4410),
                    ("Answering your questions about lenses", 12007),
                )
            ]
        },
    )
    web.goto("/signin")
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()
    assert_accessible(page)
    shoot(page, "signin")

    web.sign_in()
    web.connect(creator["username"])
    assert_accessible(page)
    shoot(page, "accounts")

    page.get_by_role("button", name="Disconnect @casey.creates").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert_accessible(page)
    shoot(page, "disconnect")
    page.get_by_role("button", name="Cancel").click()

    page.get_by_role("link", name="Post to @casey.creates").click()
    expect(page.get_by_text("Posting to")).to_be_visible()
    assert_accessible(page)
    video = padded_video(tmp_path / "trip.mp4", 25_000_000)
    choose_video_file(page, video)
    page.get_by_label("Title").fill("Weekend trip to the coast #travel #sea")
    choose_privacy(page, "Everyone")
    page.get_by_label("Allow comments").check()
    page.get_by_role("switch", name="Disclose commercial content").check()
    page.get_by_label("Your brand").check()
    assert_accessible(page)
    shoot(page, "post")

    # Hold the second chunk so the upload page is seen mid-way.
    held: list[Route] = []
    page.route("**/api/publish/*/chunks/1", lambda route: held.append(route))
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", name="Uploading to TikTok")).to_be_visible()
    while not held:
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    assert_accessible(page)
    shoot(page, "upload")
    held[0].continue_()
    page.unroute("**/api/publish/*/chunks/1")

    expect(page.get_by_role("heading", name="Post status")).to_be_visible(timeout=30000)
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)
    expect(page.get_by_role("link", name="View on TikTok (@casey.creates)")).to_be_visible()
    assert_accessible(page)
    shoot(page, "status")

    # A photo post too, so the history shows both kinds.
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Photos").check()
    page.get_by_label("URLs on your verified domain").check()
    page.get_by_label("Photo URLs, one per line").fill(
        web.assets.url("photo1.jpg") + "\n" + web.assets.url("photo2.jpg")
    )
    page.get_by_label("Title").fill("Two frames from the shoot")
    choose_privacy(page, "Only me")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)

    # A day of audience and its snapshot, so the history shows the video's metrics.
    web.fake.control("POST", "advance_day", json={"days": 1})
    seed_days(web, creator["open_id"], 1)
    page.get_by_role("link", name="History").first.click()
    expect(page.get_by_role("heading", name="Post history")).to_be_visible()
    expect(page.get_by_text("Weekend trip to the coast #travel #sea")).to_be_visible()
    expect(page.get_by_text("Views", exact=True)).to_be_visible()
    assert_accessible(page)
    shoot(page, "history")

    # A scheduled post, with its time being changed and its cancel being confirmed.
    at = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
    scheduled = page.request.post(
        web.base + "/api/publish",
        headers={"Origin": web.base},
        data={
            "open_id": creator["open_id"],
            "mode": "direct",
            "media": {"type": "video", "source": "url", "url": web.assets.url("clip.mp4")},
            "post": {"title": "Sunday market, live", "privacy_level": "SELF_ONLY"},
            "duration_sec": 4.0,
            "schedule_at": at.replace(microsecond=0).isoformat(),
            "schedule_tz": "America/New_York",
        },
    )
    assert scheduled.status == 201, scheduled.text()
    page.get_by_role("navigation").get_by_role("link", name="Scheduled").click()
    expect(page.get_by_text("Sunday market, live")).to_be_visible()
    page.get_by_role("button", name="Change the time of Sunday market, live").click()
    page.get_by_role("button", name="Cancel Sunday market, live").click()
    expect(page.get_by_role("button", name="Yes, cancel the post")).to_be_visible()
    assert_accessible(page)
    shoot(page, "scheduled")

    page.get_by_role("navigation").get_by_role("link", name="Videos").click()
    expect(page.get_by_text("Three-minute pasta, no shortcuts", exact=True)).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_accessible(page)
    shoot(page, "videos")

    page.get_by_role("link", name="My data").click()
    expect(page.get_by_role("heading", name="Delete my account")).to_be_visible()
    assert_accessible(page)
    shoot(page, "data")
    assert FIXTURES.exists()
