"""History: filters sent to the server as query parameters (and kept in the URL, so the back
button restores them), paging with the server's cursor, links to each post's status."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import Web


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
