"""Analytics over HTTP against the whole local stack: the first snapshot on connect, daily series
with 19-digit video ids as strings, range validation, isolation (P4), the setting that turns
collection off, and snapshots gone on disconnect and account deletion but present in the export
(JSON and CSV). Promise P19.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests import analytics_days
from tests.openapi import check_response
from tests.support import FakeTikTok, all_documents

pytestmark = pytest.mark.e2e

ACCOUNT = "/api/tiktok/accounts/{open_id}/analytics"
VIDEO = "/api/tiktok/accounts/{open_id}/videos/{video_id}/analytics"
SETTINGS = "/api/tiktok/accounts/{open_id}"


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    user = fake_tiktok.create_user(display_name="Casey", username="casey", follower_count=1000)
    specs = [
        {"title": f"video {n}", "create_time": 1_700_000_000 + n * 60, "view_count": 10 * n}
        for n in range(25)
    ]
    fake_tiktok.control("POST", f"users/{user['open_id']}/videos", json={"videos": specs})
    return user


def analytics_documents(stack: Stack) -> list[str]:
    return [d["name"] for d in all_documents(stack) if "/analytics/" in d["name"]]


def uid_of(browser: httpx.Client) -> str:
    uid: str = browser.get("/api/session").json()["user"]["uid"]
    return uid


def seed_days(fake: FakeTikTok, browser: httpx.Client, open_id: str, days: int) -> list[str]:
    """Replace the connect's snapshot by ``days`` daily ones, the audience growing between."""
    return analytics_days.seed_days(fake, uid_of(browser), open_id, days)


def test_connecting_takes_a_first_snapshot(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack
) -> None:
    response = ann.get(ACCOUNT.format(open_id=creator["open_id"]))
    assert response.status_code == 200, response.text
    check_response("GET", ACCOUNT, response)
    body = response.json()
    today = datetime.now(UTC).date().isoformat()
    assert [p["date"] for p in body["account"]] == [today]
    assert body["account"][0]["follower_count"] == 1000
    assert len(body["videos"]) == 25
    views = [v["latest"]["view_count"] for v in body["videos"]]
    assert views == sorted(views, reverse=True)  # top videos first
    assert len(analytics_documents(devserver)) == 1


def test_daily_series_keep_19_digit_ids_exact_and_match_the_video_route(
    ann: httpx.Client, creator: dict[str, Any], fake_tiktok: FakeTikTok
) -> None:
    open_id = creator["open_id"]
    dates = seed_days(fake_tiktok, ann, open_id, 3)
    response = ann.get(ACCOUNT.format(open_id=open_id), params={"from": dates[0], "to": dates[-1]})
    assert response.status_code == 200, response.text
    check_response("GET", ACCOUNT, response)
    body = response.json()
    assert [p["date"] for p in body["account"]] == dates
    followers = [p["follower_count"] for p in body["account"]]
    assert followers == sorted(followers)
    assert followers[0] < followers[-1]
    seeded = fake_tiktok.control("GET", f"users/{open_id}/videos")["videos"]
    assert {v["id"] for v in body["videos"]} == {v["id"] for v in seeded}
    for video in seeded:  # every id appears quoted, digit for digit, in the raw JSON
        assert int(video["id"]) > 2**53
        assert re.search(rf'"id":\s*"{video["id"]}"', response.text)
    top = body["videos"][0]
    assert [p["date"] for p in top["series"]] == dates
    assert top["series"][0]["view_count"] < top["series"][-1]["view_count"]
    one = ann.get(
        VIDEO.format(open_id=open_id, video_id=top["id"]),
        params={"from": dates[0], "to": dates[-1]},
    )
    assert one.status_code == 200, one.text
    check_response("GET", VIDEO, one)
    assert one.json()["video"]["series"] == top["series"]
    assert one.json()["video"]["id"] == top["id"]
    only_first = ann.get(ACCOUNT.format(open_id=open_id), params={"from": dates[0], "to": dates[0]})
    assert [p["date"] for p in only_first.json()["account"]] == dates[:1]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"from": "2026-13-01"}, "request.from"),
        ({"to": "yesterday"}, "request.to"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "request.range"),
        ({"from": "2025-01-01", "to": "2026-02-05"}, "request.range"),  # 401 days
    ],
)
def test_bad_ranges_are_refused_saying_what_is_wrong(
    ann: httpx.Client, creator: dict[str, Any], params: dict[str, str], reason: str
) -> None:
    for template, path in (
        (ACCOUNT, ACCOUNT.format(open_id=creator["open_id"])),
        (VIDEO, VIDEO.format(open_id=creator["open_id"], video_id="7311955624011532587")),
    ):
        response = ann.get(path, params=params)
        assert response.status_code == 400, response.text
        check_response("GET", template, response)
        assert response.json()["error"]["reason"] == reason
        assert response.json()["error"]["message"]


def test_a_400_day_range_is_accepted_and_a_bad_video_id_refused(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    path = ACCOUNT.format(open_id=creator["open_id"])
    assert ann.get(path, params={"from": "2025-01-01", "to": "2026-02-04"}).status_code == 200
    bad = ann.get(VIDEO.format(open_id=creator["open_id"], video_id="1.5e18"))
    assert bad.status_code == 400
    assert bad.json()["error"]["reason"] == "request.video_id"
    unknown = ann.get(VIDEO.format(open_id=creator["open_id"], video_id="123"))
    assert unknown.status_code == 404
    check_response("GET", VIDEO, unknown)


def test_another_user_can_neither_read_nor_change_the_analytics(
    ann: httpx.Client, bob: httpx.Client, creator: dict[str, Any], devserver: Stack
) -> None:
    open_id = creator["open_id"]
    video_id = ann.get(ACCOUNT.format(open_id=open_id)).json()["videos"][0]["id"]
    for response in (
        bob.get(ACCOUNT.format(open_id=open_id)),
        bob.get(VIDEO.format(open_id=open_id, video_id=video_id)),
        bob.patch(SETTINGS.format(open_id=open_id), json={"analytics_enabled": False}),
    ):
        assert response.status_code == 404, response.text
        assert video_id not in response.text
    assert len(analytics_documents(devserver)) == 1
    anonymous = httpx.get(devserver.functions_url + ACCOUNT.format(open_id=open_id))
    assert anonymous.status_code == 401


def test_turning_collection_off_deletes_the_snapshots_and_is_shown(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack, fake_tiktok: FakeTikTok
) -> None:
    open_id = creator["open_id"]
    seed_days(fake_tiktok, ann, open_id, 2)
    off = ann.patch(SETTINGS.format(open_id=open_id), json={"analytics_enabled": False})
    assert off.status_code == 200, off.text
    check_response("PATCH", SETTINGS, off)
    assert off.json()["deleted_snapshots"] == 2
    assert off.json()["account"]["analytics_enabled"] is False
    assert analytics_documents(devserver) == []
    listed = ann.get("/api/tiktok/accounts").json()["accounts"][0]
    assert listed["analytics_enabled"] is False
    body = ann.get(ACCOUNT.format(open_id=open_id)).json()
    assert (body["analytics_enabled"], body["account"], body["videos"]) == (False, [], [])
    on = ann.patch(SETTINGS.format(open_id=open_id), json={"analytics_enabled": True})
    assert on.json()["account"]["analytics_enabled"] is True


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"analytics_enabled": "no"}, "request.analytics_enabled"),
        ({}, "request.analytics_enabled"),
        ({"analytics_enabled": False, "display_name": "x"}, "request.unknown_field"),
    ],
)
def test_a_bad_setting_is_refused_and_changes_nothing(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack, body: Any, reason: str
) -> None:
    response = ann.patch(SETTINGS.format(open_id=creator["open_id"]), json=body)
    assert response.status_code == 400, response.text
    check_response("PATCH", SETTINGS, response)
    assert response.json()["error"]["reason"] == reason
    assert len(analytics_documents(devserver)) == 1


def test_disconnect_leaves_no_snapshot(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack, fake_tiktok: FakeTikTok
) -> None:
    seed_days(fake_tiktok, ann, creator["open_id"], 2)
    assert len(analytics_documents(devserver)) == 2
    assert ann.delete(SETTINGS.format(open_id=creator["open_id"])).status_code == 200
    assert analytics_documents(devserver) == []


def test_the_export_holds_the_snapshots_with_string_ids_and_deletion_leaves_none(
    ann: httpx.Client, creator: dict[str, Any], devserver: Stack, fake_tiktok: FakeTikTok
) -> None:
    open_id = creator["open_id"]
    dates = seed_days(fake_tiktok, ann, open_id, 2)
    ids = {v["id"] for v in fake_tiktok.control("GET", f"users/{open_id}/videos")["videos"]}
    exported = ann.get("/api/me/export", params={"format": "json"})
    assert exported.status_code == 200
    records = exported.json()["collections"]["analytics"]
    assert sorted(r["id"] for r in records) == dates
    for record in records:
        assert record["open_id"] == open_id
        assert record["expire_at"] > record["taken_at"]
        assert {v["id"] for v in record["videos"]} == ids  # strings, exactly
    accounts = exported.json()["collections"]["accounts"]
    assert [a["analytics_enabled"] for a in accounts] == [True]

    archive = zipfile.ZipFile(io.BytesIO(ann.get("/api/me/export/csv").content))
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("analytics.csv"), "utf-8")))
    assert sorted(r["id"] for r in rows) == dates
    for row in rows:
        assert {v["id"] for v in json.loads(row["videos"])} == ids
    account_rows = list(csv.DictReader(io.TextIOWrapper(archive.open("accounts.csv"), "utf-8")))
    assert [r["analytics_enabled"] for r in account_rows] == ["True"]

    assert ann.delete("/api/me").status_code == 200
    assert analytics_documents(devserver) == []
