"""History: filters sent to the server as query parameters (and kept in the URL, so the back
button restores them), paging with the server's cursor, links to each post's status, and a
published video's current metrics with its link to TikTok by its exact string id."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import Web
from tests.browser.seed import seed_days


def seed_posts(web: Web, open_id: str, count: int) -> None:
    """Photo posts made through the API with the browser's own session cookie."""
    web.fake.control(
        "POST",
        "config",
        json={
            "rate_limits": {"content_init": 1000, "creator_info": 1000},
            "daily_post_cap": 1000,
        },
    )
    for n in range(count):
        response = web.page.request.post(
            web.base + "/api/publish",
            headers={"Origin": web.base},
            data={
                "open_id": open_id,
                "mode": "direct",
                "media": {"type": "photo", "urls": [web.assets.url("photo1.jpg")]},
                "post": {"title": f"Seeded {n:02d}", "privacy_level": "SELF_ONLY"},
            },
        )
        assert response.status == 201, response.text()


def history_queries(web: Web) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(c["path"]).query) for c in web.calls("GET", "/api/posts")]


def test_history_pages_newest_first(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    seed_posts(web, creator["open_id"], 21)
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    rows = page.get_by_role("list", name="Posts, newest first").get_by_role("listitem")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("Seeded 20")
    page.get_by_role("button", name="Show older posts").click()
    expect(rows).to_have_count(21)
    expect(rows.last).to_contain_text("Seeded 00")
    expect(page.get_by_role("button", name="Show older posts")).to_have_count(0)
    assert "cursor" in history_queries(web)[-1]
    rows.last.get_by_role("link", name="Status").click()
    expect(page.get_by_text("Seeded 00")).to_be_visible()
    expect(page).to_have_url(web.base + "/posts/" + page.url.rsplit("/", 1)[1])


def test_filters_go_to_the_server_and_live_in_the_url(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    expect(page.get_by_text("You have not posted anything yet.")).to_be_visible()
    page.get_by_label("Account").select_option(label="@casey.creates")
    expect(page).to_have_url(f"{web.base}/history?account={creator['open_id']}")
    page.get_by_label("Status").select_option(label="Not posted")
    expect(page).to_have_url(f"{web.base}/history?account={creator['open_id']}&status=FAILED")
    expect(page.get_by_text("No post matches these filters.")).to_be_visible()
    assert history_queries(web)[-2:] == [
        {"open_id": [creator["open_id"]]},
        {"open_id": [creator["open_id"]], "status": ["FAILED"]},
    ]
    page.go_back()
    expect(page.get_by_label("Status")).to_have_value("")
    expect(page.get_by_label("Account")).to_have_value(creator["open_id"])
    page.go_back()
    expect(page.get_by_label("Account")).to_have_value("")


def test_a_published_video_shows_its_current_metrics_and_links_to_it(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    open_id = creator["open_id"]
    web.sign_in_quick()
    web.connect(creator["username"])
    response = web.page.request.post(
        web.base + "/api/publish",
        headers={"Origin": web.base},
        data={
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "source": "url", "url": web.assets.url("clip.mp4")},
            "post": {"title": "Harbour at dawn", "privacy_level": "PUBLIC_TO_EVERYONE"},
            "duration_sec": 4.0,
        },
    )
    assert response.status == 201, response.text()
    post_id = response.json()["post"]["id"]
    for _ in range(300):
        post = web.page.request.get(f"{web.base}/api/publish/{post_id}/status").json()["post"]
        if post["status"] == "PUBLISH_COMPLETE" and post["post_ids"]:
            break
        page.wait_for_timeout(100)
    video_id = post["post_ids"][0]
    assert isinstance(video_id, str)
    assert int(video_id) > 2**53
    web.fake.control("POST", "advance_day", json={"days": 2})  # the video gains an audience
    (today,) = seed_days(web, open_id, 1)
    videos = web.fake.control("GET", f"users/{open_id}/videos")["videos"]
    video = next(v for v in videos if v["id"] == video_id)
    assert video["view_count"] > 0

    page.get_by_role("navigation").get_by_role("link", name="History").click()
    row = page.get_by_role("listitem").filter(has_text="Harbour at dawn")
    metrics = row.get_by_label(f"Metrics of video {video_id} on {today}")
    expect(metrics).to_be_visible()
    shown = dict(
        zip(
            metrics.locator("dt").all_inner_texts(),
            metrics.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    assert shown == {
        "Views": f"{video['view_count']:,}",
        "Likes": f"{video['like_count']:,}",
        "Comments": f"{video['comment_count']:,}",
        "Shares": f"{video['share_count']:,}",
    }
    expect(row.get_by_role("link", name="View on TikTok")).to_have_attribute(
        "href", f"https://www.tiktok.com/@casey.creates/video/{video_id}"
    )
