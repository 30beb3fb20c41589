"""Following posts over real HTTP: the webhook, polling, the sweep, history; promises P7, P11, P13.

The fake TikTok delivers its webhooks to the dev server, signed with the stack's client secret;
its control API holds, drops, reorders, duplicates and replays them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator import trigger
from emulator.stack import Stack
from emulator.tiktok.webhooks import sign
from shared import runtime
from shared.publishing.publish import publish as publish_post
from shared.status.sweep import run_sweep
from shared.tiktok.client import TikTokClient, make_http_client
from tests.media_server import MediaServer
from tests.openapi import check_response
from tests.support import FakeTikTok, all_documents, connect_account

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control(
        "POST",
        "config",
        json={"verified_url_prefixes": [media.base + "/media/"], "processing_seconds": 0.2},
    )
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def publish(browser: httpx.Client, open_id: str, media: MediaServer) -> dict[str, Any]:
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "url", "url": media.url(2_000_000, "v.mp4")},
        "post": {"title": "status", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "duration_sec": 10.0,
    }
    response = browser.post("/api/publish", json=body)
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()["post"]
    return post


def wait_for(check: Callable[[], Any], seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def stored(uid_post: tuple[str, str]) -> dict[str, Any]:
    uid, post_id = uid_post
    doc = runtime.firestore_client().document(f"users/{uid}/posts/{post_id}").get().to_dict()
    assert doc is not None
    return doc


def owner(browser: httpx.Client, post: dict[str, Any]) -> tuple[str, str]:
    uid: str = browser.get("/api/session").json()["user"]["uid"]
    return uid, post["id"]


def at_tiktok(fake: FakeTikTok, publish_id: str) -> dict[str, Any]:
    found: dict[str, Any] = fake.control("GET", f"publishes/{publish_id}")
    return found


def webhooks(fake: FakeTikTok) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = fake.control("GET", "webhooks")["deliveries"]
    return found


def held(fake: FakeTikTok, publish_id: str) -> list[dict[str, Any]]:
    return [
        d
        for d in webhooks(fake)
        if d["state"] == "held" and json.loads(d["body"]["content"])["publish_id"] == publish_id
    ]


def signed_post(
    stack: Stack, body: bytes, *, secret: str | None = None, t: int | None = None
) -> httpx.Response:
    header = sign(secret or stack.tiktok_client_secret, body, t or int(time.time()))
    return httpx.post(
        f"{stack.functions_url}/api/webhooks/tiktok",
        content=body,
        headers={"Content-Type": "application/json", "TikTok-Signature": header},
    )


def event_body(stack: Stack, event: str, content: dict[str, Any], **fields: Any) -> bytes:
    body = {
        "client_key": stack.tiktok_client_key,
        "event": event,
        "create_time": int(time.time()),
        "user_openid": "someone",
        "content": json.dumps(content),
        **fields,
    }
    return json.dumps(body).encode()


def test_a_post_completes_by_webhook_alone(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = publish(ann, creator["open_id"], media)
    key = owner(ann, post)
    # "complete" and "publicly_available" are two deliveries: wait for both to be applied.
    doc = wait_for(lambda: (d := stored(key))["post_ids"] and d)
    assert doc["status"] == "PUBLISH_COMPLETE"
    assert doc["status_source"] == "webhook"
    expected = at_tiktok(fake_tiktok, post["publish_id"])["post_ids"]
    assert expected
    assert doc["post_ids"] == expected  # strings, above 2**53, exactly TikTok's
    assert fake_tiktok.calls().get("status_fetch", 0) == 0
    assert {d["state"] for d in webhooks(fake_tiktok)} == {"delivered"}


def test_a_post_completes_by_polling_alone_and_is_not_polled_once_final(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    fake_tiktok.control("POST", "webhooks/config", json={"drop": True})
    post = publish(ann, creator["open_id"], media)

    def polled() -> dict[str, Any] | None:
        response = ann.get(f"/api/publish/{post['id']}/status")
        assert response.status_code == 200, response.text
        check_response("GET", "/api/publish/{post_id}/status", response)
        body: dict[str, Any] = response.json()["post"]
        return body if body["status"] == "PUBLISH_COMPLETE" else None

    final = wait_for(polled, 20)
    assert final["status_source"] == "poll"
    assert final["final"] is True
    assert final["stale"] is False
    assert final["downloaded_bytes"] == 2_000_000  # progress for the progress bar
    assert final["post_ids"] == at_tiktok(fake_tiktok, post["publish_id"])["post_ids"]
    calls = fake_tiktok.calls()["status_fetch"]
    assert ann.get(f"/api/publish/{post['id']}/status").json()["post"]["status"] == (
        "PUBLISH_COMPLETE"
    )
    assert fake_tiktok.calls()["status_fetch"] == calls
    assert all(d["state"] == "dropped" for d in webhooks(fake_tiktok))


def test_a_spent_poll_budget_answers_the_stored_status_as_stale_not_429(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    fake_tiktok.control("POST", "webhooks/config", json={"drop": True})
    post = publish(ann, creator["open_id"], media)
    uid, post_id = owner(ann, post)
    db = runtime.firestore_client()
    now = datetime.now(UTC)
    minute_ago = now - timedelta(minutes=1)
    db.document(f"users/{uid}/posts/{post_id}").update(
        {"created_at": minute_ago, "updated_at": minute_ago}
    )
    recent = [now.timestamp() - 1] * 30  # another instance spent the minute's budget
    db.document(f"users/{uid}/poll_budgets/{creator['open_id']}").set({"calls": recent})
    response = ann.get(f"/api/publish/{post_id}/status")
    assert response.status_code == 200
    check_response("GET", "/api/publish/{post_id}/status", response)
    body = response.json()["post"]
    assert (body["stale"], body["stale_reason"], body["status"]) == (
        True,
        "poll_budget",
        "PROCESSING_DOWNLOAD",
    )
    assert body["retry_after"] > 0
    assert fake_tiktok.calls().get("status_fetch", 0) == 0


def test_the_sweep_completes_a_post_whose_webhooks_were_dropped_and_gives_up_after_a_bound(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    fake_tiktok.control("POST", "webhooks/config", json={"drop": True})
    done = publish(ann, creator["open_id"], media)
    wait_for(lambda: at_tiktok(fake_tiktok, done["publish_id"])["status"] == "PUBLISH_COMPLETE")
    assert stored(owner(ann, done))["status"] == "PROCESSING_DOWNLOAD"  # no webhook came

    outcomes = run_sweep(runtime.tracker(), now=datetime.now(UTC) + timedelta(minutes=3))
    assert outcomes["moved"] == 1
    doc = stored(owner(ann, done))
    assert (doc["status"], doc["status_source"]) == ("PUBLISH_COMPLETE", "sweep")

    stuck = publish(ann, creator["open_id"], media)
    fake_tiktok.control("POST", "config", json={"processing_seconds": 3600})
    later = datetime.now(UTC) + timedelta(hours=25)
    assert run_sweep(runtime.tracker(), now=later)["gave_up"] >= 1
    doc = stored(owner(ann, stuck))
    assert (doc["status"], doc["fail_reason"]) == ("FAILED", "status_unknown_timeout")


def test_the_scheduled_sweep_is_its_own_job_run_through_pubsub(
    devserver: Stack,
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``python -m emulator.trigger sweep`` publishes to ``status-sweep`` as Cloud Scheduler
    would, and the ``sweep_status`` function completes a post whose webhooks were dropped."""
    if "pubsub" not in devserver.children:
        devserver.start(["pubsub"])
    for key in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.setenv(key, devserver.env()[key])
    fake_tiktok.control("POST", "webhooks/config", json={"drop": True})
    done = publish(ann, creator["open_id"], media)
    wait_for(lambda: at_tiktok(fake_tiktok, done["publish_id"])["status"] == "PUBLISH_COMPLETE")
    uid, post_id = owner(ann, done)
    due = datetime.now(UTC) - timedelta(seconds=1)  # its next check is due now
    runtime.firestore_client().document(f"users/{uid}/posts/{post_id}").update(
        {"status_check_at": due}
    )

    assert trigger.main(["sweep"]) == 0

    doc = wait_for(lambda: (d := stored((uid, post_id)))["status"] == "PUBLISH_COMPLETE" and d)
    assert doc["status_source"] == "sweep"


def test_duplicated_and_reordered_deliveries_leave_the_same_final_state(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
    devserver: Stack,
) -> None:
    fake_tiktok.control("POST", "webhooks/config", json={"hold": True})
    post = publish(ann, creator["open_id"], media)
    mine = wait_for(lambda: len(ours := held(fake_tiktok, post["publish_id"])) >= 2 and ours)
    assert [d["event"] for d in mine] == [
        "post.publish.complete",
        "post.publish.publicly_available",
    ]
    ids = [d["id"] for d in reversed(mine)]  # publicly_available first: reordered
    sent = fake_tiktok.control("POST", "webhooks/release", json={"ids": ids, "duplicate": 3})
    assert [s["status"] for s in sent["sent"]] == [200] * 6
    for delivery in mine:
        assert fake_tiktok.control("POST", f"webhooks/{delivery['id']}/replay")["status"] == 200
    doc = stored(owner(ann, post))
    assert doc["status"] == "PUBLISH_COMPLETE"
    assert doc["post_ids"] == at_tiktok(fake_tiktok, post["publish_id"])["post_ids"]
    receipts = [d for d in all_documents(devserver) if "/webhook_events/" in d["name"]]
    assert len(receipts) == 2  # one receipt per distinct delivery

    # A late failure (or any lower status) after completion changes nothing.
    late = event_body(devserver, "post.publish.failed", {"publish_id": post["publish_id"]})
    assert signed_post(devserver, late).json()["outcome"] == "no_change"
    assert stored(owner(ann, post))["status"] == "PUBLISH_COMPLETE"


def test_a_failure_keeps_tiktoks_reason(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    fake_tiktok.control("POST", "config", json={"processing_seconds": 3600})
    post = publish(ann, creator["open_id"], media)
    fake_tiktok.control("POST", f"publish/{post['publish_id']}/fail", json={"reason": "spam_risk"})
    doc = wait_for(lambda: (d := stored(owner(ann, post)))["status"] == "FAILED" and d)
    assert (doc["fail_reason"], doc["status_source"]) == ("spam_risk", "webhook")


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong_secret", 401),
        ("stale", 401),
        ("future", 401),
        ("no_header", 401),
        ("malformed_header", 400),
        ("malformed_body", 400),
        ("string_content_not_json", 400),
        ("wrong_client_key", 401),
    ],
)
def test_bad_signatures_stale_timestamps_and_malformed_bodies_are_refused(
    devserver: Stack, clean: Stack, case: str, status: int
) -> None:
    body = event_body(devserver, "post.publish.complete", {"publish_id": "v_pub_url~v2-1.1"})
    url = f"{devserver.functions_url}/api/webhooks/tiktok"
    now = int(time.time())
    if case == "wrong_secret":
        response = signed_post(devserver, body, secret="not-the-secret")
    elif case in ("stale", "future"):
        # Just outside the 5-minute window, with room for a slow machine between here and the
        # server's clock read (``now`` is also truncated to the second).
        response = signed_post(devserver, body, t=now - 310 if case == "stale" else now + 310)
    elif case == "no_header":
        response = httpx.post(url, content=body)
    elif case == "malformed_header":
        response = httpx.post(url, content=body, headers={"TikTok-Signature": "t=abc;s=zz"})
    elif case == "malformed_body":
        response = signed_post(devserver, b"{not json")
    elif case == "string_content_not_json":
        broken = json.loads(body)
        broken["content"] = "{oops"
        response = signed_post(devserver, json.dumps(broken).encode())
    else:
        response = signed_post(devserver, event_body(devserver, "x", {}, client_key="other-app"))
    assert response.status_code == status, response.text
    check_response("POST", "/api/webhooks/tiktok", response)
    assert not [d for d in all_documents(devserver) if "/webhook_events/" in d["name"]]


def test_unknown_events_are_acknowledged(devserver: Stack, clean: Stack) -> None:
    response = signed_post(devserver, event_body(devserver, "video.publish.completed", {}))
    assert response.status_code == 200
    check_response("POST", "/api/webhooks/tiktok", response)
    assert response.json()["outcome"] == "ignored"


def test_authorization_removed_revokes_every_connection_and_deletes_the_tokens(
    ann: httpx.Client,
    bob: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    devserver: Stack,
) -> None:
    assert connect_account(bob, fake_tiktok, creator["open_id"]).status_code == 302
    fake_tiktok.control("POST", f"users/{creator['open_id']}/deauthorize", json={"reason": 1})
    for browser in (ann, bob):

        def revoked(b: httpx.Client = browser) -> dict[str, Any] | None:
            return _revoked(b)

        account = wait_for(revoked)
        assert account["status_reason"] == "tiktok.authorization_removed.user_disconnected"
    accounts = [d for d in all_documents(devserver) if d["name"].split("/")[-2] == "accounts"]
    assert len(accounts) == 2
    for doc in accounts:
        assert not {"access_token_enc", "refresh_token_enc"} & set(doc["fields"])


def _revoked(browser: httpx.Client) -> dict[str, Any] | None:
    accounts = browser.get("/api/tiktok/accounts").json()["accounts"]
    return accounts[0] if accounts and accounts[0]["status"] == "revoked" else None


def test_history_lists_posts_newest_first_with_cursor_paging(
    ann: httpx.Client, bob: httpx.Client, creator: dict[str, Any], media: MediaServer
) -> None:
    published = publish(ann, creator["open_id"], media)
    uid, _ = owner(ann, published)
    db = runtime.firestore_client()
    base = datetime.now(UTC) - timedelta(days=1)
    for n in range(44):
        seed = f"seed{n:02d}"
        db.document(f"users/{uid}/posts/{seed}").set(
            {
                **dict(uid=uid, post_id=seed, status="PUBLISH_COMPLETE", open_id="o"),
                **dict(mode="direct", media_type="video", source="PULL_FROM_URL"),
                "title": f"seed {n}",
                **dict(privacy_level="SELF_ONLY", publish_id=f"p{n}", updated_at=base),
                "created_at": base + timedelta(minutes=n),
            }
        )
    pages, cursor = [], None
    while True:
        response = ann.get("/api/posts", params={"cursor": cursor} if cursor else None)
        assert response.status_code == 200, response.text
        check_response("GET", "/api/posts", response)
        pages.append(response.json()["posts"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [20, 20, 5]
    ids = [p["id"] for page in pages for p in page]
    assert ids == [published["id"]] + [f"seed{n:02d}" for n in reversed(range(44))]
    first = pages[0][0]  # P7: the metadata is kept
    assert (first["title"], first["privacy_level"], first["publish_id"]) == (
        "status",
        "PUBLIC_TO_EVERYONE",
        published["publish_id"],
    )
    assert ann.get("/api/posts", params={"cursor": "nonsense!"}).status_code == 400
    assert bob.get("/api/posts").json() == {"posts": [], "next_cursor": None}


def test_users_cannot_poll_or_list_each_others_posts(
    ann: httpx.Client, bob: httpx.Client, creator: dict[str, Any], media: MediaServer
) -> None:
    """P4 for the status and history routes."""
    post = publish(ann, creator["open_id"], media)
    response = bob.get(f"/api/publish/{post['id']}/status")
    assert response.status_code == 404
    check_response("GET", "/api/publish/{post_id}/status", response)
    assert post["publish_id"] not in response.text
    assert bob.get("/api/posts").json()["posts"] == []
    anonymous = httpx.get(f"{str(ann.base_url).rstrip('/')}/api/posts")
    assert anonymous.status_code == 401
    assert ann.get(f"/api/publish/{post['id']}/status").status_code == 200


class DiesDuringInit(TikTokClient):
    """The instance is lost while TikTok's init is in flight (nothing is recorded after it)."""

    def init_video_direct(self, *args: Any, **kwargs: Any) -> Any:
        raise SystemExit("instance stopped")


def test_the_sweep_settles_a_post_whose_init_never_recorded_an_outcome(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], devserver: Stack
) -> None:
    """Never initialised twice: it becomes UNKNOWN, and its Idempotency-Key returns it."""
    uid = ann.get("/api/session").json()["user"]["uid"]
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": 1000},
        "post": {"privacy_level": "SELF_ONLY"},
        "duration_sec": 3,
    }
    runtime.reset()
    real = runtime.publisher()
    settings = runtime.settings()
    dying = DiesDuringInit(
        make_http_client(settings.tiktok_api_base),
        client_key=settings.tiktok_client_key,
        client_secret=settings.tiktok_client_secret.reveal(),
        redirect_uri=settings.tiktok_redirect_uri,
        auth_url=settings.tiktok_auth_url,
    )
    now = datetime.now(UTC)
    with pytest.raises(SystemExit):
        publish_post(
            dataclasses.replace(real, tiktok=dying),
            uid=uid,
            body=body,
            idempotency_key="lost-1",
            now=now,
        )
    [stuck] = [
        d.to_dict() for d in runtime.firestore_client().collection(f"users/{uid}/posts").stream()
    ]
    assert stuck is not None
    assert stuck["status"] == "INITIALIZING"

    assert run_sweep(runtime.tracker(), now=now + timedelta(minutes=5))["init_unknown"] == 0
    assert run_sweep(runtime.tracker(), now=now + timedelta(minutes=11))["init_unknown"] == 1
    again = ann.post("/api/publish", json=body, headers={"Idempotency-Key": "lost-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["post"]["status"] == "UNKNOWN"
    assert again.json()["post"]["fail_reason"] == "init_outcome_unknown"
    assert at_tiktok_inits(fake_tiktok) == 0


def at_tiktok_inits(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return sum(counts.get(name, 0) for name in ("video_init", "inbox_init", "content_init"))
