"""Deletion against requests in flight, over real HTTP: whatever was running, nothing is left.

A TikTok account disconnected while a publish waits on TikTok, and a chunk still streaming when
``DELETE /api/me`` runs, each end in a clear 4xx, never a 500, and leave nothing behind.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests.e2e.test_publish_http import put_chunk, received, video_file
from tests.support import FakeTikTok, all_documents

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    return fake_tiktok.create_user(display_name="Rae", username="rae")


class InFlight(threading.Thread):
    """A request sent from another thread, so the test can act while it runs."""

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        super().__init__(daemon=True)
        self.send = send
        self.response: httpx.Response | None = None

    def run(self) -> None:
        self.response = self.send()

    def answer(self) -> httpx.Response:
        self.join(timeout=60)
        assert self.response is not None, "the request never answered"
        return self.response


def uid_of(browser: httpx.Client) -> str:
    uid: str = browser.get("/api/session").json()["user"]["uid"]
    return uid


def of_user(stack: Stack, uid: str) -> list[str]:
    return [d["name"] for d in all_documents(stack) if uid in json.dumps(d)]


def test_disconnect_while_a_publish_waits_on_tiktok_answers_a_clear_404(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    fake_tiktok.control("POST", "config", json={"latency_ms": {"creator_info": 2000}})
    body = video_file(creator["open_id"], size=3_000_000)
    publishing = InFlight(
        lambda: ann.post("/api/publish", json=body, headers={"Idempotency-Key": "d-1"})
    )
    publishing.start()
    time.sleep(0.6)
    assert ann.delete(f"/api/tiktok/accounts/{creator['open_id']}").status_code == 200
    response = publishing.answer()
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["reason"] == "account.disconnected"
    assert "disconnected" in error["message"]
    uid = uid_of(ann)
    assert [n for n in of_user(devserver, uid) if "/posts/" in n or "idempotency" in n] == []


def test_a_chunk_finishing_during_account_deletion_answers_404_and_leaves_nothing(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    post = ann.post("/api/publish", json=video_file(creator["open_id"])).json()["post"]
    uid = uid_of(ann)
    fake_tiktok.control("POST", "config", json={"ingress_mbps": 16})  # 10 MB: about 5 s
    chunk = InFlight(lambda: put_chunk(ann, post, 0))
    chunk.start()
    time.sleep(0.6)
    deleted = ann.delete("/api/me")
    assert deleted.status_code == 200, deleted.text
    response = chunk.answer()
    assert response.status_code == 404, response.text
    assert response.json()["error"]["reason"] == "post.gone"
    assert [n.rsplit("/documents/", 1)[1] for n in of_user(devserver, uid)] == [f"users/{uid}"]
    assert received(fake_tiktok, post["publish_id"])["status"] == "FAILED"  # cancelled at TikTok
    finish_later()
    assert of_user(devserver, uid) == []


def finish_later() -> None:
    """The scheduled job's deletion step, once no request can still be in flight."""
    from datetime import UTC, datetime

    from shared.users.deletion import IN_FLIGHT_BOUND, finish_deletions
    from tests.support import deletion_collaborators

    finish_deletions(*deletion_collaborators(), now=datetime.now(UTC) + IN_FLIGHT_BOUND)


@pytest.mark.parametrize("slow", ["creator_info", "video_init"])
def test_deletion_during_two_publishes_leaves_nothing_and_cancels_what_tiktok_received(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    devserver: Stack,
    slow: str,
) -> None:
    """Issue 12's race: a TikTok call takes 6 s, two publishes wait on it, the user deletes.

    TikTok's revoke fails (deletion goes ahead, as it must), so the publishes' tokens still work
    when their calls return: creator_info slow means the posts would be written after deletion
    swept; video_init slow means TikTok holds two inits whose records deletion already removed.
    """
    uid = uid_of(ann)
    fake_tiktok.control("POST", "config", json={"latency_ms": {slow: 6000}})
    fake_tiktok.control(
        "POST",
        "fail",
        json={"endpoint": "revoke", "status": 503, "code": "temporarily_unavailable", "times": 20},
    )
    body = video_file(creator["open_id"])
    publishes = [InFlight(lambda: ann.post("/api/publish", json=body)) for _ in range(2)]
    for request in publishes:
        request.start()
    time.sleep(0.6)
    deleted = ann.delete("/api/me")
    assert deleted.status_code == 200, deleted.text
    answers = [request.answer() for request in publishes]
    assert all(400 <= a.status_code < 500 for a in answers), [a.text for a in answers]
    # Nothing the in-flight requests wrote survives them: no post, no upload URL, no pointer.
    assert [n for n in of_user(devserver, uid) if "/users/" + uid + "/" in n] == []
    assert [n for n in of_user(devserver, uid) if "publish_ids" in n] == []
    at_tiktok = fake_tiktok.control("GET", "publishes", params={"open_id": creator["open_id"]})
    assert all(p["status"] == "FAILED" for p in at_tiktok["publishes"]), at_tiktok

    finish_later()
    assert of_user(devserver, uid) == []  # the tombstone too, once nothing can be in flight
