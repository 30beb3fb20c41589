"""Disconnecting an account, or deleting the user, while posts are scheduled: none of them ever
reaches TikTok, and every status change is announced once on ``publisher-events``.

Over real processes: posts are scheduled and the account disconnected (or the user deleted)
over HTTP; then the posts' time is made to have come (``schedule_at`` moved into the past in
Firestore) and the local trigger runs ``publish_scheduled`` through the Pub/Sub emulator, as Cloud
Scheduler would. The fake TikTok counts every init; a pull subscription counts the events.
Promise P20.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator import trigger
from emulator.stack import Stack
from shared import runtime
from shared.store.outbox import OUTBOX
from shared.store.query import where
from tests.e2e.test_events_pubsub import counted, settle
from tests.e2e.test_media_http import bucket, jpeg, objects_soon, stage
from tests.e2e.test_schedule_due import Dying, _run, at, due, inits, post_of, received
from tests.media_server import MediaServer
from tests.support import EventSubscription, FakeTikTok, connect_account

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer, devserver: Stack) -> dict[str, Any]:
    prefixes = [media.base + "/media/", f"{devserver.functions_url}/media/"]
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": prefixes})
    return fake_tiktok.create_user(display_name="Casey", username="casey")


@pytest.fixture
def events(pubsub: Stack, request: pytest.FixtureRequest) -> Iterator[EventSubscription]:
    subscription = EventSubscription(pubsub, f"e2e-{request.node.name[:60]}")
    yield subscription
    subscription.close()


@pytest.fixture
def trigger_env(pubsub: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.setenv(key, pubsub.env()[key])


def uid_of(browser: httpx.Client) -> str:
    uid: str = browser.get("/api/session").json()["user"]["uid"]
    return uid


def schedule(browser: httpx.Client, open_id: str, media: dict[str, Any], title: str) -> str:
    at = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body: dict[str, Any] = {
        "open_id": open_id,
        "mode": "direct",
        "media": media,
        "post": {"title": title, "privacy_level": "SELF_ONLY"},
        "schedule_at": at.isoformat(),
    }
    if media["type"] == "video":
        body["duration_sec"] = 10.0
    response = browser.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post_id: str = response.json()["post"]["id"]
    return post_id


def video(media: MediaServer) -> dict[str, Any]:
    return {"type": "video", "source": "url", "url": media.url(1_000_000, "c.mp4")}


def make_due(uid: str, post_ids: list[str]) -> None:
    """Their minute has come: ``schedule_at`` 30 s ago (the documents may be gone)."""
    db = runtime.firestore_client()
    for post_id in post_ids:
        ref = db.document(f"users/{uid}/posts/{post_id}")
        if ref.get().exists:
            ref.update({"schedule_at": datetime.now(UTC) - timedelta(seconds=30)})


def run_due_minute() -> None:
    """``python -m emulator.trigger publish-due``, and long enough for any init to be sent."""
    assert trigger.main(["publish-due"]) == 0
    time.sleep(4)


def test_disconnecting_cancels_the_accounts_scheduled_posts_and_none_ever_reaches_tiktok(
    events: EventSubscription,
    trigger_env: None,
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    devserver: Stack,
) -> None:
    for blob in bucket(devserver).client.list_blobs(devserver.media_bucket):
        blob.delete()
    other = fake_tiktok.create_user(display_name="Other", username="other")
    assert connect_account(ann, fake_tiktok, other["open_id"]).status_code == 302
    photo = stage(ann, jpeg((1080, 1920), (10, 90, 30)))["id"]
    gone = [
        schedule(ann, creator["open_id"], video(media), "url video"),
        schedule(ann, creator["open_id"], {"type": "photo", "media_ids": [photo]}, "photo"),
    ]
    kept = schedule(ann, other["open_id"], video(media), "other account")
    assert objects_soon(devserver, 1) == 1

    answer = ann.delete(f"/api/tiktok/accounts/{creator['open_id']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["cancelled_scheduled"] == 2

    for post_id in gone:
        post = post_of(ann, post_id)
        assert (post["status"], post["fail_reason"]) == ("CANCELLED", "account.disconnected")
        assert post["publish_id"] is None
        # Changing or cancelling it now is refused as for any cancelled post.
        edit = ann.patch(f"/api/publish/{post_id}", json={"post": {"title": "x"}})
        assert edit.json()["error"]["reason"] == "schedule.cancelled"
    assert objects_soon(devserver, 0) == 0  # the photo's staged object is deleted
    assert post_of(ann, kept)["status"] == "SCHEDULED"
    # Connecting the same TikTok account again before the posts' time brings none of them back.
    assert connect_account(ann, fake_tiktok, creator["open_id"]).status_code == 302

    make_due(uid_of(ann), [*gone, kept])
    run_due_minute()
    run_due_minute()  # the next minute too

    assert [p["post_info"]["title"] for p in received(fake_tiktok, creator["open_id"])] == []
    assert [p["post_info"]["title"] for p in received(fake_tiktok, other["open_id"])] == [
        "other account"
    ]
    assert inits(fake_tiktok) == 1
    for post_id in gone:
        assert post_of(ann, post_id)["status"] == "CANCELLED"
    messages = settle(events)
    posts = Counter(
        {k: v for k, v in counted(messages).items() if k[0] == "post.status" and k[1] in gone}
    )
    assert posts == Counter(
        {("post.status", p, s): 1 for p in gone for s in ("SCHEDULED", "CANCELLED")}
    )
    reasons = {
        m["body"]["post_id"]: m["body"]["reason"]
        for m in messages
        if m["body"]["status"] == "CANCELLED"
    }
    assert reasons == {p: "account.disconnected" for p in gone}
    accounts = counted(messages)
    assert accounts[("account.status", creator["open_id"], "disconnected")] == 1
    assert accounts[("account.status", creator["open_id"], "active")] == 2  # connected twice


def test_a_disconnect_during_the_due_runs_checks_wins_and_the_post_never_reaches_tiktok(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post_id = schedule(ann, creator["open_id"], video(media), "raced")
    moment = datetime.now(UTC) + timedelta(minutes=10, seconds=5)

    def disconnect() -> None:
        assert ann.delete(f"/api/tiktok/accounts/{creator['open_id']}").status_code == 200

    summary = _run(due(at(moment), tiktok=Dying(runtime.tiktok(), "hook", disconnect)), moment)

    assert summary.outcomes["withdrawn"] == 1
    post = post_of(ann, post_id)
    assert (post["status"], post["fail_reason"]) == ("CANCELLED", "account.disconnected")
    assert inits(fake_tiktok) == 0


def test_deleting_the_user_leaves_no_scheduled_post_to_reach_tiktok_and_announces_only_that(
    events: EventSubscription,
    trigger_env: None,
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
) -> None:
    uid = uid_of(ann)
    post_ids = [schedule(ann, creator["open_id"], video(media), f"later {n}") for n in range(2)]
    make_due(uid, post_ids)  # due already: only the deletion stands between them and TikTok

    assert ann.delete("/api/me").status_code == 200
    run_due_minute()

    assert inits(fake_tiktok) == 0
    db = runtime.firestore_client()
    assert [s.id for s in db.collection(f"users/{uid}/posts").stream()] == []
    messages = settle(events)
    # The posts were announced when scheduled; what follows is the deletion alone (docs/events.md,
    # account deletion: a subscriber forgets the user), and nothing of the user stays queued.
    assert counted(messages) == Counter(
        {
            ("account.status", creator["open_id"], "active"): 1,
            ("post.status", post_ids[0], "SCHEDULED"): 1,
            ("post.status", post_ids[1], "SCHEDULED"): 1,
            ("account.status", creator["open_id"], "deleted"): 1,
        }
    )
    assert list(where(db.collection(OUTBOX), "uid", "==", uid).stream()) == []


def test_a_deletion_during_the_due_runs_checks_wins_and_the_post_never_reaches_tiktok(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post_id = schedule(ann, creator["open_id"], video(media), "raced")
    uid = uid_of(ann)
    moment = datetime.now(UTC) + timedelta(minutes=10, seconds=5)

    def delete_me() -> None:
        assert ann.delete("/api/me").status_code == 200

    summary = _run(due(at(moment), tiktok=Dying(runtime.tiktok(), "hook", delete_me)), moment)

    assert summary.outcomes["withdrawn"] == 1
    assert inits(fake_tiktok) == 0
    assert not runtime.firestore_client().document(f"users/{uid}/posts/{post_id}").get().exists
