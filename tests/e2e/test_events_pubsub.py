"""Status events over real processes: the dev server's functions publish to ``publisher-events`` in
the Pub/Sub emulator, and a pull subscription of the test counts what arrives.

A video posted through the API: each of its status changes exactly once; the account's connect,
needs_reconnect, disconnect and deletion: each exactly once; nothing else, and no token or URL.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from shared.store.outbox import OUTBOX
from tests.media_server import MediaServer
from tests.support import AuthEmulator, EventSubscription, FakeTikTok, connect_account, new_browser

pytestmark = pytest.mark.e2e

QUIET_SECONDS = 3.0  # no new message for this long after the last change: all have arrived


@pytest.fixture
def events(devserver: Stack, clean: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    subscription = EventSubscription(clean, f"e2e-{request.node.name[:60]}")
    yield subscription
    subscription.close()


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control(
        "POST",
        "config",
        json={"verified_url_prefixes": [media.base + "/media/"], "processing_seconds": 0.2},
    )
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def settle(events: EventSubscription) -> list[dict[str, Any]]:
    """Every message until none has come for :data:`QUIET_SECONDS`."""
    got: list[dict[str, Any]] = []
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_SECONDS:
        new = events.pull()
        if new:
            got.extend(new)
            quiet_since = time.monotonic()
        time.sleep(0.2)
    return got


def wait_for_post(uid: str, post_id: str, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        doc = runtime.firestore_client().document(f"users/{uid}/posts/{post_id}").get().to_dict()
        if doc and doc.get("status") == "PUBLISH_COMPLETE" and doc.get("post_ids"):
            return doc
        assert time.monotonic() < deadline, f"post not complete: {doc and doc.get('status')}"
        time.sleep(0.1)


def counted(messages: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    return Counter(
        (m["body"]["type"], m["body"]["post_id"] or m["body"]["open_id"], m["body"]["status"])
        for m in messages
    )


def assert_no_secret(messages: list[dict[str, Any]]) -> None:
    text = json.dumps(messages)
    for needle in ("http", "token", "127.0.0.1", "holiday"):
        assert needle not in text


def test_a_posted_video_publishes_each_status_change_exactly_once(
    events: EventSubscription,
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
) -> None:
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(2_000_000, "v.mp4")},
        "post": {"title": "holiday", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "duration_sec": 10.0,
    }
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post_id = response.json()["post"]["id"]
    uid = ann.get("/api/session").json()["user"]["uid"]
    wait_for_post(uid, post_id)
    # Replays change nothing and so announce nothing.
    for delivery in fake_tiktok.control("GET", "webhooks")["deliveries"]:
        fake_tiktok.control("POST", f"webhooks/{delivery['id']}/replay")

    messages = settle(events)
    assert counted(messages) == Counter(
        {
            ("account.status", creator["open_id"], "active"): 1,
            ("post.status", post_id, "INITIALIZING"): 1,
            ("post.status", post_id, "PROCESSING_DOWNLOAD"): 1,
            ("post.status", post_id, "PUBLISH_COMPLETE"): 1,
        }
    )
    for message in messages:
        assert message["attributes"]["uid"] == uid
        assert message["attributes"]["event_id"] == message["body"]["event_id"]
    assert_no_secret(messages)
    entries = [s.to_dict() or {} for s in runtime.firestore_client().collection(OUTBOX).stream()]
    assert sorted(e["state"] for e in entries) == ["sent"] * 4


def test_needs_reconnect_disconnect_and_deletion_each_publish_once(
    events: EventSubscription,
    devserver: Stack,
    auth_emulator: AuthEmulator,
    fake_tiktok: FakeTikTok,
) -> None:
    browser = new_browser(devserver, auth_emulator, "bea@example.com")
    kept = fake_tiktok.create_user(display_name="Kept")["open_id"]
    gone = fake_tiktok.create_user(display_name="Gone")["open_id"]
    assert connect_account(browser, fake_tiktok, kept, granted_scopes="user.info.basic")
    assert connect_account(browser, fake_tiktok, gone).status_code == 302
    # Without video.publish TikTok refuses creator info: the account needs reconnecting, once.
    reasons = [
        browser.get(f"/api/tiktok/accounts/{kept}/creator-info").json()["error"]["reason"]
        for _ in range(2)
    ]
    assert reasons == ["tiktok.scope_not_authorized", "account.needs_reconnect"]
    assert browser.delete(f"/api/tiktok/accounts/{gone}").status_code == 200
    assert browser.delete(f"/api/tiktok/accounts/{gone}").status_code == 404
    uid = browser.get("/api/session").json()["user"]["uid"]
    assert browser.delete("/api/me").status_code == 200

    messages = settle(events)
    assert counted(messages) == Counter(
        {
            ("account.status", kept, "active"): 1,
            ("account.status", gone, "active"): 1,
            ("account.status", kept, "needs_reconnect"): 1,
            ("account.status", gone, "disconnected"): 1,
            ("account.status", kept, "deleted"): 1,
        }
    )
    assert {m["attributes"]["uid"] for m in messages} == {uid}
    assert_no_secret(messages)
    # The deletion left nothing of the user in the outbox, its own events included once sent.
    assert list(runtime.firestore_client().collection(OUTBOX).stream()) == []
