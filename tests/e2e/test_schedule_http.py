"""Scheduling over real HTTP: ``POST /api/publish`` with ``schedule_at``, ``PATCH`` and ``DELETE``
of a scheduled post, the scheduled list, and every refusal with its reason. Nothing reaches
TikTok's init until the post is due (``test_schedule_due.py`` sends them). Promise P20.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests.e2e.test_media_http import bucket, jpeg, objects_soon, stage
from tests.media_server import MediaServer
from tests.openapi import check_response
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e

INIT_ENDPOINTS = ("video_init", "inbox_init", "content_init")


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer, devserver: Stack) -> dict[str, Any]:
    fake_tiktok.control(
        "POST",
        "config",
        json={
            "verified_url_prefixes": [media.base + "/media/", f"{devserver.functions_url}/media/"]
        },
    )
    return fake_tiktok.create_user(display_name="Casey", username="casey", duet_disabled=True)


def at(delta: timedelta, offset_hours: int = 0) -> str:
    """An RFC 3339 time ``delta`` from now, written with a ``offset_hours`` offset."""
    from datetime import timezone

    zone = timezone(timedelta(hours=offset_hours))
    return (datetime.now(UTC) + delta).astimezone(zone).replace(microsecond=0).isoformat()


def url_video(open_id: str, media: MediaServer, **extra: Any) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(2_000_000, "clip.mp4")},
        "post": {"title": "later #test", "privacy_level": "SELF_ONLY"},
        "duration_sec": 12.0,
        **extra,
    }


def init_calls(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return sum(counts.get(name, 0) for name in INIT_ENDPOINTS)


def schedule(ann: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    check_response("POST", "/api/publish", response)
    post: dict[str, Any] = response.json()["post"]
    return post


def test_a_scheduled_post_is_stored_as_scheduled_and_nothing_reaches_tiktok(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    when = at(timedelta(days=2), offset_hours=1)
    post = schedule(
        ann, url_video(creator["open_id"], media, schedule_at=when, schedule_tz="Europe/Berlin")
    )

    assert post["status"] == "SCHEDULED"
    assert post["publish_id"] is None
    assert post["schedule_at"] == when  # Berlin in winter: +01:00, as the user chose it
    assert post["schedule_tz"] == "Europe/Berlin"
    assert init_calls(fake_tiktok) == 0
    assert fake_tiktok.calls()["creator_info"] == 1  # checked against fresh creator info now
    status = ann.get(f"/api/publish/{post['id']}/status")
    assert status.json()["post"]["status"] == "SCHEDULED"
    listed = ann.get("/api/posts", params={"status": "SCHEDULED", "open_id": creator["open_id"]})
    check_response("GET", "/api/posts", listed)
    assert [p["id"] for p in listed.json()["posts"]] == [post["id"]]
    other = ann.get("/api/posts", params={"status": "SCHEDULED", "open_id": "someone-else"})
    assert other.json()["posts"] == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"schedule_at": "2026-12-24T18:00:00"}, "request.schedule_at"),
        ({"schedule_at": "tomorrow at six"}, "request.schedule_at"),
        ({"schedule_at": at(timedelta(minutes=2))}, "schedule.too_soon"),
        ({"schedule_at": at(-timedelta(hours=1))}, "schedule.too_soon"),
        ({"schedule_at": at(timedelta(days=31))}, "schedule.too_far"),
        (
            {"schedule_at": at(timedelta(days=2)), "schedule_tz": "Mars/Olympus_Mons"},
            "request.schedule_tz",
        ),
        ({"schedule_tz": "Europe/Berlin"}, "request.schedule_at"),
        ({"schedule_at": at(timedelta(days=2)), "schedule_on": "x"}, "request.unknown_field"),
    ],
)
def test_bad_schedules_are_refused_naming_why(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    change: dict[str, Any],
    reason: str,
) -> None:
    response = ann.post("/api/publish", json=url_video(creator["open_id"], media, **change))

    assert response.status_code == 400, response.text
    assert response.json()["error"]["reason"] == reason
    assert ann.get("/api/posts").json()["posts"] == []
    assert init_calls(fake_tiktok) == 0


def test_a_file_upload_cannot_be_scheduled_and_is_told_to_stage_it(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": 5_000_000},
        "post": {"privacy_level": "SELF_ONLY"},
        "duration_sec": 10,
        "schedule_at": at(timedelta(hours=3)),
    }
    response = ann.post("/api/publish", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["reason"] == "schedule.file_upload"
    assert "stage it first" in error["message"]


def test_a_scheduled_post_breaking_a_creator_rule_is_refused_now(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    body = url_video(creator["open_id"], media, schedule_at=at(timedelta(hours=3)))
    body["post"]["allow_duet"] = True  # this creator turned duets off

    response = ann.post("/api/publish", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["reason"] == "post.allow_duet_disabled_by_creator"


def test_edit_changes_the_time_and_settings_and_checks_them_again(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, url_video(creator["open_id"], media, schedule_at=at(timedelta(hours=3))))
    later = at(timedelta(days=1), offset_hours=-5)

    edited = ann.patch(
        f"/api/publish/{post['id']}",
        json={"schedule_at": later, "schedule_tz": "America/New_York", "post": {"title": "new"}},
    )

    assert edited.status_code == 200, edited.text
    check_response("PATCH", "/api/publish/{post_id}", edited)
    changed = edited.json()["post"]
    assert (changed["schedule_at"], changed["schedule_tz"]) == (later, "America/New_York")
    assert changed["title"] == "new"
    assert changed["privacy_level"] == "SELF_ONLY"  # merged over the stored settings
    refused = ann.patch(f"/api/publish/{post['id']}", json={"post": {"allow_duet": True}})
    assert refused.status_code == 400
    assert refused.json()["error"]["reason"] == "post.allow_duet_disabled_by_creator"
    unknown = ann.patch(f"/api/publish/{post['id']}", json={"post": {"caption": "x"}})
    assert unknown.status_code == 400
    assert unknown.json()["error"] | {"message": ""} == {
        "code": "INVALID_ARGUMENT",
        "message": "",
        "reason": "request.unknown_field",
        "field": "post.caption",
    }
    assert ann.patch(f"/api/publish/{post['id']}", json={}).status_code == 400
    stored = ann.get(f"/api/publish/{post['id']}/status").json()["post"]
    assert (stored["title"], stored["schedule_at"]) == ("new", later)
    assert init_calls(fake_tiktok) == 0


def test_a_post_published_now_is_not_a_scheduled_one(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    now = ann.post("/api/publish", json=url_video(creator["open_id"], media)).json()["post"]

    edited = ann.patch(f"/api/publish/{now['id']}", json={"post": {"title": "x"}})

    assert edited.status_code == 409
    assert edited.json()["error"]["reason"] == "schedule.not_scheduled"


def test_cancel_makes_it_cancelled_deletes_its_staged_media_and_stays_cancelled(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    for blob in bucket(devserver).client.list_blobs(devserver.media_bucket):
        blob.delete()
    photos = [stage(ann, jpeg((1080, 1920), (200, 10 * i, 0)))["id"] for i in range(2)]
    post = schedule(
        ann,
        {
            "open_id": creator["open_id"],
            "mode": "direct",
            "media": {"type": "photo", "media_ids": photos},
            "post": {"title": "two", "privacy_level": "SELF_ONLY"},
            "schedule_at": at(timedelta(hours=5)),
        },
    )
    assert objects_soon(devserver, 2) == 2

    cancelled = ann.delete(f"/api/publish/{post['id']}")

    assert cancelled.status_code == 200, cancelled.text
    check_response("DELETE", "/api/publish/{post_id}", cancelled)
    assert cancelled.json()["post"]["status"] == "CANCELLED"
    assert objects_soon(devserver, 0) == 0
    assert ann.get(f"/api/media/{photos[0]}").status_code == 404
    again = ann.delete(f"/api/publish/{post['id']}")
    assert (again.status_code, again.json()["post"]["status"]) == (200, "CANCELLED")
    edit = ann.patch(f"/api/publish/{post['id']}", json={"post": {"title": "x"}})
    assert (edit.status_code, edit.json()["error"]["reason"]) == (409, "schedule.cancelled")
    listed = ann.get("/api/posts", params={"status": "CANCELLED"}).json()["posts"]
    assert [p["id"] for p in listed] == [post["id"]]
    assert init_calls(fake_tiktok) == 0


def test_another_users_scheduled_post_is_not_found(
    ann: httpx.Client, bob: httpx.Client, creator: dict[str, Any], media: MediaServer
) -> None:
    post = schedule(ann, url_video(creator["open_id"], media, schedule_at=at(timedelta(hours=3))))

    assert bob.patch(f"/api/publish/{post['id']}", json={"post": {"title": "x"}}).status_code == 404
    assert bob.delete(f"/api/publish/{post['id']}").status_code == 404
    assert ann.get(f"/api/publish/{post['id']}/status").json()["post"]["status"] == "SCHEDULED"


def test_each_edit_is_read_back_at_once_by_the_list_and_the_status(
    ann: httpx.Client, creator: dict[str, Any], media: MediaServer
) -> None:
    """A change answered by PATCH is what the very next read shows (Firestore reads are strongly
    consistent and nothing between caches a post): no client needs to wait or retry for it."""
    post = schedule(ann, url_video(creator["open_id"], media, schedule_at=at(timedelta(hours=1))))
    for n in range(1, 13):  # each PATCH asks creator info: under its 20 a minute
        when = at(timedelta(hours=1, minutes=n), offset_hours=n % 3)
        title = f"edit {n}"
        edited = ann.patch(
            f"/api/publish/{post['id']}", json={"schedule_at": when, "post": {"title": title}}
        )
        assert edited.status_code == 200, edited.text
        answered = edited.json()["post"]
        listed = ann.get("/api/posts", params={"status": "SCHEDULED"})
        assert listed.headers["Cache-Control"] == "no-store"
        (row,) = listed.json()["posts"]
        status = ann.get(f"/api/publish/{post['id']}/status").json()["post"]
        for seen in (row, status):
            assert (seen["schedule_at"], seen["title"]) == (answered["schedule_at"], title)
        assert datetime.fromisoformat(answered["schedule_at"]) == datetime.fromisoformat(when)
