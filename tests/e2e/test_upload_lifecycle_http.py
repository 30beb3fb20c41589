"""A file upload's life after init, over real HTTP: resumed, abandoned by the user, or left.

``DELETE /api/publish/{id}`` abandons an unfinished upload at once (``FAILED``,
``upload_abandoned``) and cancels it at TikTok; anything else answers 409 naming why. An upload
whose chunks stop arriving is settled by the sweep once TikTok's upload URL has expired. After a
chunk that failed mid-way the status route names the chunk to send next, and the upload resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from shared.status.sweep import run_sweep
from tests.e2e.test_publish_http import put_chunk, received, video_file
from tests.media_server import MediaServer, media_pieces, media_sha256
from tests.openapi import check_response
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e

SIZE = 30_000_000  # three 10 MB chunks with the test stack's chunk limit
CHUNK = 10_000_000


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": [media.base + "/slow/"]})
    return fake_tiktok.create_user(display_name="Uma", username="uma")


def start_upload(browser: httpx.Client, open_id: str, size: int = SIZE) -> dict[str, Any]:
    response = browser.post("/api/publish", json=video_file(open_id, size=size))
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()["post"]
    return post


def stored(post_id: str) -> dict[str, Any]:
    [doc] = [
        d.to_dict() or {}
        for d in runtime.firestore_client().collection_group("posts").stream()
        if d.id == post_id
    ]
    return doc


def cancel_webhooks(fake: FakeTikTok, publish_id: str) -> list[str]:
    reasons = []
    for delivery in fake.control("GET", "webhooks")["deliveries"]:
        content = json.loads(delivery["body"]["content"])
        if delivery["event"] == "post.publish.failed" and content["publish_id"] == publish_id:
            reasons.append(content["reason"])
    return reasons


def test_delete_abandons_an_unfinished_upload_and_cancels_it_at_tiktok(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    post = start_upload(ann, creator["open_id"])
    assert put_chunk(ann, post, 0).status_code == 200

    response = ann.delete(f"/api/publish/{post['id']}")
    assert response.status_code == 200, response.text
    check_response("DELETE", "/api/publish/{post_id}", response)
    body = response.json()
    assert (body["post"]["status"], body["post"]["fail_reason"]) == ("FAILED", "upload_abandoned")
    assert body["cancelled_at_tiktok"] is True
    at_tiktok = received(fake_tiktok, post["publish_id"])
    assert (at_tiktok["status"], at_tiktok["fail_reason"]) == ("FAILED", "publish_cancelled")
    assert cancel_webhooks(fake_tiktok, post["publish_id"]) == ["publish_cancelled"]
    doc = stored(post["id"])
    assert "upload_url_enc" not in doc  # TikTok's upload credential is not kept once unused
    assert doc["status_source"] == "user"

    refused = put_chunk(ann, post, 1)
    assert refused.status_code == 409
    assert refused.json()["error"]["reason"] == "upload.closed"
    assert received(fake_tiktok, post["publish_id"])["received_bytes"] == CHUNK
    status = ann.get(f"/api/publish/{post['id']}/status").json()["post"]
    assert (status["status"], status["fail_reason"]) == ("FAILED", "upload_abandoned")
    again = ann.delete(f"/api/publish/{post['id']}")
    assert again.status_code == 409
    assert again.json()["error"]["reason"] == "publish.not_cancellable"


def test_delete_answers_409_for_a_post_that_is_not_an_unfinished_upload(
    ann: httpx.Client,
    bob: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
) -> None:
    fake_tiktok.control("POST", "config", json={"processing_seconds": 3600})
    uploaded = start_upload(ann, creator["open_id"], size=3_000_000)
    assert put_chunk(ann, uploaded, 0).json()["complete"] is True
    done = ann.delete(f"/api/publish/{uploaded['id']}")
    assert done.status_code == 409
    check_response("DELETE", "/api/publish/{post_id}", done)
    assert done.json()["error"]["reason"] == "publish.not_cancellable"
    assert "upload is complete" in done.json()["error"]["message"]

    pulled = ann.post(
        "/api/publish",
        json={
            "open_id": creator["open_id"],
            "mode": "direct",
            "media": {
                "type": "video",
                "source": "url",
                "url": media.url(5_000_000, "p.mp4", "slow"),
            },
            "post": {"privacy_level": "SELF_ONLY"},
            "duration_sec": 3,
        },
    ).json()["post"]
    refused = ann.delete(f"/api/publish/{pulled['id']}")
    assert refused.status_code == 409
    assert "PROCESSING_DOWNLOAD" in refused.json()["error"]["message"]
    assert received(fake_tiktok, uploaded["publish_id"])["status"] == "PROCESSING_UPLOAD"
    assert fake_tiktok.calls().get("cancel", 0) == 0

    other = start_upload(ann, creator["open_id"])
    assert bob.delete(f"/api/publish/{other['id']}").status_code == 404  # P4
    assert ann.delete("/api/publish/no-such-post").status_code == 404
    assert stored(other["id"])["status"] == "PROCESSING_UPLOAD"


def test_the_sweep_abandons_an_upload_once_tiktoks_upload_url_has_expired(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    post = start_upload(ann, creator["open_id"])
    assert put_chunk(ann, post, 0).status_code == 200
    now = datetime.now(UTC)
    assert run_sweep(runtime.tracker(), now=now + timedelta(minutes=59))["abandoned"] == 0
    assert stored(post["id"])["status"] == "PROCESSING_UPLOAD"
    assert run_sweep(runtime.tracker(), now=now + timedelta(minutes=61))["abandoned"] == 1
    doc = stored(post["id"])
    assert (doc["status"], doc["fail_reason"], doc["status_source"]) == (
        "FAILED",
        "upload_abandoned",
        "sweep",
    )
    assert received(fake_tiktok, post["publish_id"])["status"] == "FAILED"  # cancelled there too


def cut_short(name: str, first: int, last: int, after: int) -> Iterator[bytes]:
    """The chunk's bytes until ``after`` of them were sent, then the connection is lost."""
    sent = 0
    for piece in media_pieces(name, first, last):
        yield piece
        sent += len(piece)
        if sent >= after:
            raise ConnectionResetError("the browser lost its connection")


def resume_point(browser: httpx.Client, post: dict[str, Any]) -> dict[str, Any]:
    """The README's resume protocol: ask the status until no chunk request holds the upload."""
    deadline = time.monotonic() + 30
    while True:
        status: dict[str, Any] = browser.get(f"/api/publish/{post['id']}/status").json()["post"]
        if not status["chunk_in_progress"]:
            return status
        assert time.monotonic() < deadline, "the upload stayed busy"
        time.sleep(0.2)


def test_an_upload_resumes_from_the_status_routes_next_chunk_after_a_chunk_failed_mid_way(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    post = start_upload(ann, creator["open_id"])
    assert put_chunk(ann, post, 0).status_code == 200
    with pytest.raises((httpx.HTTPError, ConnectionResetError)):
        ann.put(
            f"/api/publish/{post['id']}/chunks/1",
            content=cut_short("clip.mp4", CHUNK, 2 * CHUNK - 1, after=3_000_000),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(CHUNK)},
        )
    status = resume_point(ann, post)
    assert (status["next_chunk"], status["uploaded_bytes"]) == (1, CHUNK)
    fake_tiktok.control(
        "POST", "fail", json={"endpoint": "upload", "status": 500, "code": "", "times": 1}
    )
    failed = put_chunk(ann, post, 1)  # TikTok fails this attempt: retry the same chunk
    assert failed.status_code >= 500, failed.text

    status = resume_point(ann, post)
    check_response(
        "GET", "/api/publish/{post_id}/status", ann.get(f"/api/publish/{post['id']}/status")
    )
    assert (status["next_chunk"], status["uploaded_bytes"]) == (1, CHUNK)
    assert status["upload"]["chunk_size"] == CHUNK
    assert received(fake_tiktok, post["publish_id"])["received_bytes"] == CHUNK

    resumed = [put_chunk(ann, post, n) for n in range(status["next_chunk"], 3)]
    assert [r.status_code for r in resumed] == [200, 200], resumed[0].text
    assert resumed[-1].json()["complete"] is True
    assert received(fake_tiktok, post["publish_id"])["sha256"] == media_sha256(SIZE, "clip.mp4")
    final = ann.get(f"/api/publish/{post['id']}/status").json()["post"]
    assert (final["next_chunk"], final["uploaded_bytes"]) == (3, SIZE)
