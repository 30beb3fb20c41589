"""Publishing over real HTTP: dev server, emulators, fake KMS, fake TikTok, a loopback media server.

A 30 MB video relayed in chunks and posted, PULL_FROM_URL, photo, inbox, drafts, every refusal of
the publish rules, chunk order and retries, Idempotency-Key. Promises P4, P8, P9, P10.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from tests.media_server import MediaServer, media_pieces, media_sha256
from tests.openapi import check_response
from tests.support import AuthEmulator, FakeTikTok, all_documents, connect_account, new_browser

pytestmark = pytest.mark.e2e

VIDEO_SIZE = 30_000_000  # With the test stack's 10 MB chunk limit: three chunks.
INIT_ENDPOINTS = ("video_init", "inbox_init", "content_init")


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control("POST", "config", json={"verified_url_prefixes": [media.base + "/media/"]})
    return fake_tiktok.create_user(
        display_name="Casey",
        username="casey",
        avatar_url="https://p.example/c.jpg",
        duet_disabled=True,
        max_video_post_duration_sec=180,
    )


def video_file(open_id: str, size: int = VIDEO_SIZE, **post: Any) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": size},
        "post": {"title": "a #test", "privacy_level": "SELF_ONLY", **post},
        "duration_sec": 12.0,
    }


def put_chunk(
    browser: httpx.Client, post: dict[str, Any], index: int, name: str = "clip.mp4"
) -> httpx.Response:
    plan = post["upload"]
    first = index * plan["chunk_size"]
    last = (
        plan["video_size"] - 1
        if index == plan["total_chunks"] - 1
        else (first + plan["chunk_size"] - 1)
    )
    return browser.put(
        f"/api/publish/{post['id']}/chunks/{index}",
        content=media_pieces(name, first, last),
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Length": str(last - first + 1),
        },
    )


def received(fake: FakeTikTok, publish_id: str) -> dict[str, Any]:
    found: dict[str, Any] = fake.control("GET", f"publishes/{publish_id}")
    return found


def init_calls(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return sum(counts.get(name, 0) for name in INIT_ENDPOINTS)


def test_a_30_mb_video_is_relayed_in_chunks_and_posted(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    response = ann.post("/api/publish", json=video_file(creator["open_id"]))
    assert response.status_code == 201, response.text
    check_response("POST", "/api/publish", response)
    post = response.json()["post"]
    assert post["status"] == "PROCESSING_UPLOAD"
    assert post["publish_id"]
    assert post["upload"] == {"video_size": VIDEO_SIZE, "chunk_size": 10_000_000, "total_chunks": 3}

    progress = [put_chunk(ann, post, n) for n in range(3)]
    for chunk in progress:
        assert chunk.status_code == 200, chunk.text
        check_response("PUT", "/api/publish/{post_id}/chunks/{n}", chunk)
    assert [c.json()["uploaded_bytes"] for c in progress] == [10_000_000, 20_000_000, VIDEO_SIZE]
    assert progress[-1].json()["complete"] is True

    at_tiktok = received(fake_tiktok, post["publish_id"])
    assert at_tiktok["received_bytes"] == VIDEO_SIZE
    assert at_tiktok["sha256"] == media_sha256(VIDEO_SIZE, "clip.mp4")
    # P9: the media passed through; nothing of it is stored.
    dump = json.dumps(all_documents(devserver))
    assert len(dump) < 50_000
    assert hashlib.sha256(next(media_pieces("clip.mp4", 0, 1023))).hexdigest() not in dump


def test_the_client_may_ask_for_smaller_chunks(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    """A slow uplink asks for chunks it can send within Hosting's 60 s: the plan keeps every
    chunk, the last included, at most that size; outside 5 MB to the deployment's limit (10 MB
    on the test stack) the request is refused before TikTok is called."""
    body = video_file(creator["open_id"])
    body["media"]["chunk_size"] = 6_000_000
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post = response.json()["post"]
    assert post["upload"] == {"video_size": VIDEO_SIZE, "chunk_size": 6_000_000, "total_chunks": 5}
    progress = [put_chunk(ann, post, n) for n in range(5)]
    assert [c.status_code for c in progress] == [200] * 5
    assert progress[-1].json()["complete"] is True
    assert received(fake_tiktok, post["publish_id"])["received_bytes"] == VIDEO_SIZE

    inits = init_calls(fake_tiktok)
    for wrong in (4_999_999, 10_000_001, "6000000"):
        body["media"]["chunk_size"] = wrong
        refused = ann.post("/api/publish", json=body)
        assert refused.status_code == 400, refused.text
        check_response("POST", "/api/publish", refused)
        assert refused.json()["error"]["reason"] == "request.media.chunk_size"
    assert init_calls(fake_tiktok) == inits


def test_chunks_must_come_in_order_and_a_repeated_chunk_is_not_sent_twice(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    post = ann.post("/api/publish", json=video_file(creator["open_id"])).json()["post"]
    early = put_chunk(ann, post, 1)
    assert early.status_code == 409
    assert early.json()["error"]["expected_chunk"] == 0
    assert put_chunk(ann, post, 0).status_code == 200
    again = put_chunk(ann, post, 0)
    assert again.status_code == 200
    assert again.json()["uploaded_bytes"] == 10_000_000
    assert received(fake_tiktok, post["publish_id"])["received_bytes"] == 10_000_000
    wrong_size = ann.put(
        f"/api/publish/{post['id']}/chunks/1",
        content=b"x" * 10,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert wrong_size.status_code == 400
    assert "exactly 10000000 bytes" in wrong_size.json()["error"]["message"]


def test_pull_from_url_video(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    body = video_file(creator["open_id"])
    body["media"] = {"type": "video", "source": "url", "url": media.url(2_000_000, "pull.mp4")}
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post = response.json()["post"]
    assert post["upload"] is None
    assert post["status"] == "PROCESSING_DOWNLOAD"
    assert received(fake_tiktok, post["publish_id"])["source_info"]["video_url"] == (
        media.url(2_000_000, "pull.mp4")
    )


def test_an_unverified_media_url_is_refused_saying_how_to_verify_it_locally(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    """What the frontend developer sees: the fake's hint reaches the API's error message."""
    with MediaServer() as elsewhere:  # another origin, not under the verified prefix
        body = video_file(creator["open_id"])
        body["media"] = {"type": "video", "source": "url", "url": elsewhere.url(1000, "v.mp4")}
        response = ann.post("/api/publish", json=body)
    assert response.status_code == 400, response.text
    check_response("POST", "/api/publish", response)
    error = response.json()["error"]
    assert (error["code"], error["reason"]) == (
        "FAILED_PRECONDITION",
        "tiktok.url_ownership_unverified",
    )
    assert "POST /_control/config" in error["message"]
    assert f'{{"verified_url_prefixes": ["{elsewhere.base}/"]}}' in error["message"]
    assert "docs/fake-tiktok.md" in error["message"]


def test_photo_post(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {
            "type": "photo",
            "urls": [media.url(1000, "a.jpg"), media.url(1000, "b.jpg")],
            "cover_index": 1,
        },
        "post": {"title": "photos", "description": "two", "privacy_level": "SELF_ONLY"},
    }
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    publish_id = response.json()["post"]["publish_id"]
    at_tiktok = received(fake_tiktok, publish_id)
    assert (at_tiktok["kind"], at_tiktok["mode"]) == ("photo", "DIRECT_POST")
    assert at_tiktok["source_info"]["photo_cover_index"] == 1


def test_inbox_upload(ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]) -> None:
    body = video_file(creator["open_id"], size=3_000_000)
    body["mode"] = "inbox"
    del body["post"]["privacy_level"]
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post = response.json()["post"]
    assert post["upload"]["total_chunks"] == 1
    assert put_chunk(ann, post, 0).json()["complete"] is True
    at_tiktok = received(fake_tiktok, post["publish_id"])
    assert (at_tiktok["kind"], at_tiktok["mode"]) == ("video", "MEDIA_UPLOAD")
    assert at_tiktok["post_info"] in ({}, None)  # Inbox uploads carry no caption or privacy.


def test_a_draft_is_confirmed_once(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    suggestion = video_file(creator["open_id"], size=3_000_000)
    del suggestion["post"]["privacy_level"]  # The assistant must not choose it.
    created = ann.post("/api/publish/drafts", json=suggestion)
    assert created.status_code == 201, created.text
    check_response("POST", "/api/publish/drafts", created)
    draft = created.json()["draft"]
    expires = datetime.fromisoformat(draft["expire_at"])
    assert timedelta(minutes=29) < expires - datetime.now(UTC) <= timedelta(minutes=30)
    read = ann.get(f"/api/publish/drafts/{draft['id']}")
    check_response("GET", "/api/publish/drafts/{draft_id}", read)

    missing_privacy = ann.post("/api/publish", json={"draft_id": draft["id"]})
    assert missing_privacy.status_code == 400
    assert missing_privacy.json()["error"]["reason"] == "post.privacy_level_missing"
    choice = {"draft_id": draft["id"], "post": {"privacy_level": "SELF_ONLY"}}
    confirmed = ann.post("/api/publish", json=choice)
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["post"]["draft_id"] == draft["id"]
    again = ann.post("/api/publish", json=choice)
    assert again.status_code == 409
    assert again.json()["error"]["reason"] == "draft.already_confirmed"
    assert init_calls(fake_tiktok) == 1


def test_an_expired_draft_can_neither_be_read_nor_confirmed(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    """P8: expiry is enforced on every read; the TTL field is there for the TTL policy."""
    draft = ann.post("/api/publish/drafts", json=video_file(creator["open_id"])).json()["draft"]
    db = runtime.firestore_client()
    [doc] = [d for d in db.collection_group("drafts").stream() if d.id == draft["id"]]
    stored = doc.to_dict()
    assert stored is not None
    assert isinstance(stored["expire_at"], datetime)
    doc.reference.update({"expire_at": datetime.now(UTC) - timedelta(seconds=1)})
    assert ann.get(f"/api/publish/drafts/{draft['id']}").status_code == 404
    refused = ann.post("/api/publish", json={"draft_id": draft["id"]})
    assert refused.status_code == 404
    assert init_calls(fake_tiktok) == 0


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("missing privacy", {"post": {"title": "x"}}, "post.privacy_level_missing"),
    (
        "privacy not offered",
        {"post": {"privacy_level": "FOLLOWER_OF_CREATOR"}},
        "tiktok.privacy_level_option_mismatch",
    ),
    (
        "interaction disabled",
        {"post": {"privacy_level": "SELF_ONLY", "allow_duet": True}},
        "post.allow_duet_disabled_by_creator",
    ),
    ("too long", {"duration_sec": 181}, "post.duration_too_long"),
    (
        "branded private",
        {"post": {"privacy_level": "SELF_ONLY", "brand_content": True}},
        "post.branded_content_private",
    ),
    (
        "disclosure without toggle",
        {"post": {"privacy_level": "SELF_ONLY", "disclose_commercial_content": True}},
        "post.commercial_disclosure_incomplete",
    ),
    (
        "title too long",
        {"post": {"privacy_level": "SELF_ONLY", "title": "x" * 2201}},
        "request.post.title",
    ),
    (
        "too many photos",
        {"media": {"type": "photo", "urls": ["https://c.example/p.jpg"] * 36}},
        "request.media.urls",
    ),
    (
        "bad cover index",
        {"media": {"type": "photo", "urls": ["https://c.example/p.jpg"], "cover_index": 3}},
        "request.media.cover_index",
    ),
    (
        "non-https media",
        {"media": {"type": "video", "source": "url", "url": "http://cdn.example.com/v.mp4"}},
        "request.media.url",
    ),
]


@pytest.mark.parametrize(("case", "change", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_publish_rule_refuses_before_tiktok_is_called(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    case: str,
    change: dict[str, Any],
    reason: str,
) -> None:
    """P10: every rule, named in the error, and nothing sent to TikTok's init."""
    body = {**video_file(creator["open_id"]), **change}
    if "post" in change and "privacy_level" not in change["post"] and case != "missing privacy":
        body["post"]["privacy_level"] = "SELF_ONLY"
    response = ann.post("/api/publish", json=body)
    assert response.status_code == 400, response.text
    check_response("POST", "/api/publish", response)
    assert response.json()["error"]["reason"] == reason
    assert init_calls(fake_tiktok) == 0


def test_a_creator_who_cannot_post_now_is_refused(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok
) -> None:
    spammy = fake_tiktok.create_user(
        display_name="S", username="s", avatar_url="x", spam="spam_risk_too_many_posts"
    )
    browser = new_browser(devserver, auth_emulator, "sam@example.com")
    connect_account(browser, fake_tiktok, spammy["open_id"])
    response = browser.post("/api/publish", json=video_file(spammy["open_id"]))
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == "tiktok.spam_risk_too_many_posts"
    assert init_calls(fake_tiktok) == 0


def test_a_repeated_idempotency_key_returns_the_first_result(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    body = video_file(creator["open_id"], size=3_000_000)
    headers = {"Idempotency-Key": "publish-1"}
    first = ann.post("/api/publish", json=body, headers=headers)
    second = ann.post("/api/publish", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["post"]["id"] == first.json()["post"]["id"]
    assert second.json()["post"]["publish_id"] == first.json()["post"]["publish_id"]
    assert init_calls(fake_tiktok) == 1
    other = ann.post("/api/publish", json={**body, "duration_sec": 13.0}, headers=headers)
    assert other.status_code == 400
    assert other.json()["error"]["reason"] == "idempotency.key_reused"


def test_users_cannot_publish_through_or_touch_each_others_posts(
    ann: httpx.Client,
    devserver: Stack,
    auth_emulator: AuthEmulator,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
) -> None:
    """P4 for every route of publishing."""
    post = ann.post("/api/publish", json=video_file(creator["open_id"])).json()["post"]
    draft = ann.post("/api/publish/drafts", json=video_file(creator["open_id"])).json()["draft"]
    bob = new_browser(devserver, auth_emulator, "bob@example.com")
    assert bob.post("/api/publish", json=video_file(creator["open_id"])).status_code == 404
    assert bob.post("/api/publish/drafts", json=video_file(creator["open_id"])).status_code == 404
    assert bob.get(f"/api/publish/drafts/{draft['id']}").status_code == 404
    assert bob.post("/api/publish", json={"draft_id": draft["id"]}).status_code == 404
    assert put_chunk(bob, post, 0).status_code == 404
    assert received(fake_tiktok, post["publish_id"])["received_bytes"] == 0
    assert init_calls(fake_tiktok) == 1


def test_an_init_whose_outcome_is_unknown_is_recorded_and_never_sent_again(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    """A gateway timeout at init: the post is kept as UNKNOWN and a repeat does not re-post."""
    fake_tiktok.control(
        "POST", "fail", json={"endpoint": "video_init", "status": 504, "code": "", "times": 1}
    )
    body = video_file(creator["open_id"], size=3_000_000)
    headers = {"Idempotency-Key": "unknown-1"}
    first = ann.post("/api/publish", json=body, headers=headers)
    assert first.status_code == 504
    check_response("POST", "/api/publish", first)
    error = first.json()["error"]
    assert error["reason"] == "publish.outcome_unknown"
    again = ann.post("/api/publish", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json()["post"]["id"] == error["post_id"]
    assert again.json()["post"]["status"] == "UNKNOWN"
    assert init_calls(fake_tiktok) == 1


def test_an_expired_upload_url_says_so(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    post = ann.post("/api/publish", json=video_file(creator["open_id"])).json()["post"]
    fake_tiktok.control("POST", "advance", json={"seconds": 3601})
    response = put_chunk(ann, post, 0)
    assert response.status_code == 400
    assert response.json()["error"]["reason"] == "tiktok.upload_url_expired"
    assert "expired" in response.json()["error"]["message"]
