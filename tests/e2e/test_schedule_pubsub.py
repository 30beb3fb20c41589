"""Scheduled posts end to end through the Pub/Sub emulator and the dev server's CloudEvent
functions: the local trigger (as Cloud Scheduler) runs ``publish_scheduled``, whose fan-out reaches
``publish_scheduled_batch``; every due post is initialised exactly once, with real time (the
posts' ``schedule_at`` is moved into the past in Firestore, as if their minute had come).
Promise P20.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator import trigger
from emulator.stack import Stack
from shared import runtime
from shared.publishing.due_run import new_holder, run_due
from tests.media_server import MediaServer
from tests.support import FakeTikTok, connect_account

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": [media.base + "/media/"]})
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def schedule_due(ann: httpx.Client, open_id: str, media: MediaServer, title: str) -> str:
    """A post scheduled the usual way, then made due: its time moved 30 s into the past."""
    at = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    response = ann.post(
        "/api/publish",
        json={
            "open_id": open_id,
            "mode": "direct",
            "media": {"type": "video", "source": "url", "url": media.url(1_000_000, "c.mp4")},
            "post": {"title": title, "privacy_level": "SELF_ONLY"},
            "duration_sec": 10.0,
            "schedule_at": at.isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    post_id: str = response.json()["post"]["id"]
    uid = ann.get("/api/session").json()["user"]["uid"]
    runtime.firestore_client().document(f"users/{uid}/posts/{post_id}").update(
        {"schedule_at": datetime.now(UTC) - timedelta(seconds=30)}
    )
    return post_id


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.1
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the scheduled posts"
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def all_sent(ann: httpx.Client, post_ids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        posts = [ann.get(f"/api/publish/{p}/status").json()["post"] for p in post_ids]
        return all(p["publish_id"] for p in posts)

    return check


def inits(fake: FakeTikTok) -> int:
    return fake.calls().get("video_init", 0)


def test_the_local_trigger_sends_a_due_post_through_pubsub_once(
    pubsub: Stack,
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post_id = schedule_due(ann, creator["open_id"], media, "due now")
    for key in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.setenv(key, pubsub.env()[key])

    for _ in range(3):  # Cloud Scheduler's message delivered three times, or three minutes
        assert trigger.main(["publish-due"]) == 0

    wait_until(all_sent(ann, [post_id]))
    time.sleep(2)  # any duplicate delivery would have reached TikTok by now
    assert inits(fake_tiktok) == 1
    post = ann.get(f"/api/publish/{post_id}/status").json()["post"]
    assert post["status"] in ("PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE")


def test_a_big_minute_fans_out_to_the_batch_function_and_sends_each_post_once(
    pubsub: Stack, ann: httpx.Client, fake_tiktok: FakeTikTok, media: MediaServer
) -> None:
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": [media.base + "/media/"]})
    post_ids = []
    for n in range(5):
        creator = fake_tiktok.create_user(display_name=f"Creator {n}", username=f"creator{n}")
        assert connect_account(ann, fake_tiktok, creator["open_id"]).status_code == 302
        post_ids += [schedule_due(ann, creator["open_id"], media, f"{n}-{i}") for i in range(2)]

    summary = run_due(
        runtime.due(new_holder("test")),
        runtime.pubsub(),
        now=datetime.now(UTC),
        local_limit=1,
        batch_size=2,
        page_size=3,  # several pages: an account's posts may straddle two
    )

    # Pages of 3 posts name accounts [0, 1], [2], [3, 4]: account 0 is worked here, the others go
    # in one batch per page, as a batch never spans two pages (shared.pubsub.share_out, as for
    # the refresh and the analytics runs).
    assert (summary.accounts, summary.fanned_out, summary.batches) == (1, 4, 3)
    assert summary.outcomes["sent"] == 2
    wait_until(all_sent(ann, post_ids))
    time.sleep(2)
    assert inits(fake_tiktok) == 10
