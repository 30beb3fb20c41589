"""The analytics page against the whole stack, with days seeded through the real snapshot code:
each chart's points (read from its text-alternative table) equal the API's JSON, the top videos
are the API's in its order with links to TikTok by their exact string ids (and each one's own
daily chart), the range picker changes the request (and the API's 400 for a range past 400 days
is shown), and the collection setting turns off (after a confirmation saying snapshots are
deleted) and on again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Locator, expect

from tests.browser.conftest import DESKTOP, PHONE, Web, make_creator
from tests.browser.pages import assert_accessible, shoot
from tests.browser.seed import seed_days, snapshot_count

TITLES = (
    "Morning light over the harbour #sunrise",
    "Three-minute pasta, no shortcuts",
    "Studio tour: where the edits happen",
    "Answering your questions about lenses",
)
METRICS = ("view_count", "like_count", "comment_count", "share_count")
LABELS = {"view_count": "Views", "like_count": "Likes", "comment_count": "Comments"}
LABELS["share_count"] = "Shares"


@pytest.fixture
def creator(web: Web) -> dict[str, Any]:
    user = make_creator(web)
    web.fake.control(
        "POST",
        f"users/{user['open_id']}/videos",
        json={
            "videos": [
                {
                    "title": title,
                    "create_time": 1_760_000_000 + n * 86_400,
                    "cover_image_url": web.assets.url("cover.jpg"),
                    "view_count": views,
                    "like_count": views // 12,
                    "comment_count": views // 90,
                    "share_count": views // 200,
                }
                for n, (title, views) in enumerate(
                    zip(TITLES, (18230, 96120, 4410, 12007), strict=True)
                )
            ]
        },
    )
    return user


def number(text: str) -> int | None:
    text = text.strip()
    return None if text == "\N{EN DASH}" else int(text.replace(",", ""))


def table_rows(table: Locator) -> list[list[str]]:
    rows = table.locator("tbody tr")
    return [[cell.inner_text() for cell in row.locator("th, td").all()] for row in rows.all()]


def chart_table(web: Web, name: str) -> list[list[str]]:
    figure = web.page.get_by_role("figure", name=name)
    expect(figure.locator("canvas").first).to_be_attached()  # uPlot drew it
    figure.get_by_role("button", name="Show the data as a table").click()
    table = figure.get_by_role("table")
    expect(table).to_be_visible()
    return table_rows(table)


def api_analytics(web: Web, open_id: str, first: str, last: str) -> dict[str, Any]:
    response = web.page.request.get(
        f"{web.base}/api/tiktok/accounts/{quote(open_id)}/analytics",
        params={"from": first, "to": last},
    )
    assert response.status == 200, response.text()
    body: dict[str, Any] = response.json()
    return body


def analytics_queries(web: Web, open_id: str) -> list[dict[str, list[str]]]:
    path = f"/api/tiktok/accounts/{quote(open_id, safe='')}/analytics"
    return [parse_qs(urlsplit(c["path"]).query) for c in web.calls("GET", path)]


def open_analytics(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    page.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics for @casey.creates")).to_be_visible()
    expect(page).to_have_url(f"{web.base}/accounts/{quote(creator['open_id'], safe='')}/analytics")


def days_back(n: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=n)).isoformat()


def test_the_charts_show_the_apis_data_points(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    open_id = creator["open_id"]
    web.sign_in_quick()
    web.connect(creator["username"])
    dates = seed_days(web, open_id, 5)
    open_analytics(web, creator)
    expect(page.get_by_text("5 daily snapshots from")).to_be_visible()
    expect(page.locator("figure canvas")).to_have_count(5)
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(200)  # the charts follow their container's width
        assert_accessible(page)
        shoot(page, "analytics")
    assert analytics_queries(web, open_id)[-1] == {"from": [days_back(29)], "to": [dates[-1]]}
    api = api_analytics(web, open_id, days_back(29), dates[-1])
    assert [p["date"] for p in api["account"]] == dates

    followers = chart_table(web, "Followers")
    assert followers == [[p["date"], f"{p['follower_count']:,}"] for p in api["account"]]
    assert number(followers[0][1]) < number(followers[-1][1])  # type: ignore[operator]

    for key in METRICS:  # each day's total over the videos that day's snapshot holds
        rows = chart_table(web, f"{LABELS[key]} per day")
        expected = [
            [
                day,
                f"{sum(p[key] for v in api['videos'] for p in v['series'] if p['date'] == day):,}",
            ]
            for day in dates
        ]
        assert rows == expected, key

    top = page.get_by_role(
        "table", name="Videos by views, most first: the latest values in the range"
    )
    video_rows = top.locator("tbody tr")
    expect(video_rows).to_have_count(len(api["videos"]))
    shown = table_rows(top)
    views = [v["latest"]["view_count"] for v in api["videos"]]
    assert views == sorted(views, reverse=True)
    for row, video, cells in zip(video_rows.all(), api["videos"], shown, strict=True):
        assert cells[0] == video["title"]
        assert [number(c) for c in cells[1:5]] == [video["latest"][k] for k in METRICS]
        assert cells[5] == video["latest_date"] == dates[-1]
        link = row.get_by_role("link", name=video["title"])
        assert int(video["id"]) > 2**53
        # The exact string id, never a rounded number.
        expect(link).to_have_attribute(
            "href", f"https://www.tiktok.com/@casey.creates/video/{video['id']}"
        )
    top_video = api["videos"][0]
    page.get_by_role("button", name=f"Show the daily chart of {top_video['title']}").click()
    daily = chart_table(web, f"{top_video['title']}, day by day")
    assert daily == [[p["date"], *(f"{p[k]:,}" for k in METRICS)] for p in top_video["series"]]
    assert [p["date"] for p in top_video["series"]] == dates
    assert_accessible(page)  # with every chart's table shown too


def test_the_range_picker_changes_the_request_and_shows_the_apis_400(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    open_id = creator["open_id"]
    web.sign_in_quick()
    web.connect(creator["username"])
    dates = seed_days(web, open_id, 3)
    open_analytics(web, creator)
    expect(page.get_by_text("3 daily snapshots from")).to_be_visible()

    page.get_by_label("Range").select_option(label="Last 7 days")
    expect(page).to_have_url(f"{web.base}/accounts/{quote(open_id, safe='')}/analytics?days=7")
    expect(page.get_by_text(f"from {days_back(6)} to {dates[-1]}")).to_be_visible()
    assert analytics_queries(web, open_id)[-1] == {"from": [days_back(6)], "to": [dates[-1]]}

    page.get_by_label("Range").select_option(label="Last 365 days")
    expect(page.get_by_text(f"from {days_back(364)} to {dates[-1]}")).to_be_visible()
    assert analytics_queries(web, open_id)[-1] == {"from": [days_back(364)], "to": [dates[-1]]}

    page.get_by_label("Range").select_option(label="Custom dates")
    page.get_by_label("From", exact=True).fill(dates[1])
    page.get_by_label("To", exact=True).fill(dates[2])
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_text(f"2 daily snapshots from {dates[1]} to {dates[2]}")).to_be_visible()
    assert analytics_queries(web, open_id)[-1] == {"from": [dates[1]], "to": [dates[2]]}
    assert chart_table(web, "Followers")[0][0] == dates[1]

    page.get_by_label("From", exact=True).fill("2025-01-01")
    page.get_by_label("To", exact=True).fill("2026-02-05")  # 401 days
    page.get_by_role("button", name="Show", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("a range holds at most 400 days")
    expect(alert).to_contain_text("request.range")
    expect(alert).to_contain_text("HTTP 400")
    assert analytics_queries(web, open_id)[-1] == {"from": ["2025-01-01"], "to": ["2026-02-05"]}
    assert_accessible(page)

    page.go_back()  # the range lives in the URL: back restores the previous one
    expect(page.get_by_text(f"2 daily snapshots from {dates[1]} to {dates[2]}")).to_be_visible()


def test_turning_analytics_off_asks_deletes_the_snapshots_and_on_again(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    open_id = creator["open_id"]
    web.sign_in_quick()
    web.connect(creator["username"])
    seed_days(web, open_id, 4)
    open_analytics(web, creator)
    expect(page.get_by_text("On: once a day")).to_be_visible()

    page.get_by_role("button", name="Turn analytics off").click()
    dialog = page.get_by_role("dialog", name="Turn off analytics for @casey.creates?")
    expect(dialog).to_contain_text("This deletes every daily snapshot stored for @casey.creates")
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        assert_accessible(page)
        shoot(page, "analytics-off")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert web.calls("PATCH", "/api/tiktok/accounts/") == []
    assert snapshot_count(web, open_id) == 4

    page.get_by_role("button", name="Turn analytics off").click()
    page.get_by_role("button", name="Turn off and delete snapshots").click()
    expect(
        page.get_by_text("Analytics are off for @casey.creates: 4 daily snapshots were deleted.")
    ).to_be_visible()
    expect(page.get_by_text("No snapshot in this range.")).to_be_visible()
    expect(page.get_by_text("Off: no snapshot of @casey.creates is taken")).to_be_visible()
    patches = web.calls("PATCH", "/api/tiktok/accounts/")
    assert [c["body"] for c in patches] == ['{"analytics_enabled":false}']
    assert snapshot_count(web, open_id) == 0

    page.get_by_role("button", name="Turn analytics on").click()
    expect(page.get_by_text("Analytics are on for @casey.creates")).to_be_visible()
    expect(page.get_by_role("button", name="Turn analytics off")).to_be_visible()
    patches = web.calls("PATCH", "/api/tiktok/accounts/")
    assert [c["body"] for c in patches][-1] == '{"analytics_enabled":true}'
    accounts = web.page.request.get(web.base + "/api/tiktok/accounts").json()["accounts"]
    assert [a["analytics_enabled"] for a in accounts if a["open_id"] == open_id] == [True]
