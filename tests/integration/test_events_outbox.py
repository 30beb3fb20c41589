"""The event outbox against the Firestore and Pub/Sub emulators (real clients, real commits).

Each status change writes its event in the same commit, is published once and marked sent; a
writer that dies between its commit and its publish leaves the entry pending, and a drain
publishes it (once, even with two drains at the same time); no event carries a token, a URL, a
title or a caption; an account deletion publishes its ``deleted`` events and nothing else of the
user after it.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from google.api_core import exceptions

from emulator.stack import Stack
from shared import runtime
from shared.status.order import Observation
from shared.store.accounts import ACTIVE, NEEDS_RECONNECT, REVOKED, Account
from shared.store.documents import PostDoc
from shared.store.outbox import CLAIM, OUTBOX, Outbox, post_event
from shared.store.posts import PostStore
from shared.store.status import StatusStore
from shared.store.user_data import Budget, UserData
from shared.users.deletion import mark_deleting
from tests.support import EventSubscription as Subscription

pytestmark = pytest.mark.emulators

UID = "user-1"
OPEN_ID = "open-1"
SECRET_TOKEN = "act.secret-access-token-value"
URL = "https://cdn.example.com/video.mp4"
TITLE = "my holiday caption #secret"
EVENT_KEYS = {"type", "event_id", "uid", "post_id", "open_id", "status", "reason", "at"}


@pytest.fixture
def events(clean: Stack, request: pytest.FixtureRequest) -> Any:
    sub = Subscription(clean, f"test-{request.node.name[:60]}")
    yield sub
    sub.close()


def outbox_entries() -> list[dict[str, Any]]:
    db = runtime.firestore_client()
    return [s.to_dict() or {} for s in db.collection(OUTBOX).stream()]


def account(now: datetime, status: str = ACTIVE) -> Account:
    return Account(
        uid=UID,
        open_id=OPEN_ID,
        profile={"display_name": "Creator", "avatar_url": "https://p16.example.com/a.jpg"},
        scopes=("video.publish",),
        status=status,
        status_reason=None,
        access_expires_at=now + timedelta(hours=1),
        refresh_expires_at=now + timedelta(days=300),
        connected_at=now,
        updated_at=now,
        access_token_enc="v1.ciphertext-of-" + SECRET_TOKEN,
        refresh_token_enc="v1.ciphertext-of-refresh",
    )


def post_doc(now: datetime) -> PostDoc:
    """A recorded post with only the fields these tests are about."""
    fields: dict[str, Any] = {
        "uid": UID,
        "post_id": "post-1",
        "open_id": OPEN_ID,
        "media_url": URL,
        "title": TITLE,
        "description": TITLE,
        "status": "INITIALIZING",
        "fail_reason": None,
        "created_at": now,
        "updated_at": now,
    }
    return cast("PostDoc", fields)


def live_user() -> None:
    runtime.firestore_client().collection("users").document(UID).set({"uid": UID})


def test_each_post_status_change_is_published_once_with_its_entry_marked_sent(
    events: Subscription,
) -> None:
    live_user()
    now = datetime.now(UTC)
    posts, status = runtime.post_store(), runtime.status_store()
    posts.create_post(UID, "post-1", post_doc(now))
    posts.update_post(UID, "post-1", {"status": "PROCESSING_DOWNLOAD", "publish_id": "p.1"})
    posts.update_post(UID, "post-1", {"downloaded_bytes": 10})  # no status: no event
    seen = Observation(source="webhook", status="PUBLISH_COMPLETE", post_ids=("7",))
    status.apply(UID, "post-1", seen, now)
    status.apply(UID, "post-1", seen, now)  # a replayed webhook changes nothing: no event

    messages = events.pull()
    assert [m["body"]["status"] for m in messages] == [
        "INITIALIZING",
        "PROCESSING_DOWNLOAD",
        "PUBLISH_COMPLETE",
    ]
    for message in messages:
        body, attributes = message["body"], message["attributes"]
        assert set(body) == EVENT_KEYS
        assert body["type"] == "post.status"
        assert body["post_id"] == "post-1"
        assert attributes == {"type": "post.status", "uid": UID, "event_id": body["event_id"]}
    entries = outbox_entries()
    assert len(entries) == 3
    assert {e["state"] for e in entries} == {"sent"}
    assert all(e["expire_at"] > now + timedelta(days=6) for e in entries)


def test_the_event_and_the_status_change_are_one_commit(events: Subscription) -> None:
    """An entry that cannot be written (its id is taken) fails the status write with it, and a
    status write that cannot land (the post changed since it was read) writes no entry."""
    live_user()
    now = datetime.now(UTC)
    db = runtime.firestore_client()
    posts = PostStore(db)
    posts.create_post(UID, "post-1", post_doc(now))
    outbox = Outbox(db)
    taken = post_event(UID, "post-1", "FAILED", "x", now)
    db.collection(OUTBOX).document(taken["event_id"]).set({"state": "sent"})
    ref = db.document(f"users/{UID}/posts/post-1")
    batch = db.batch()
    batch.update(ref, {"status": "FAILED"})
    with pytest.raises(exceptions.Conflict):
        outbox.commit(batch, [taken])
    assert (ref.get().to_dict() or {})["status"] == "INITIALIZING"

    stale = ref.get().update_time
    ref.update({"downloaded_bytes": 1})  # another writer, after our read
    batch = db.batch()
    batch.update(ref, {"status": "FAILED"}, option=db.write_option(last_update_time=stale))
    before = len(outbox_entries())
    with pytest.raises(exceptions.FailedPrecondition):
        outbox.commit(batch, [post_event(UID, "post-1", "FAILED", None, now)])
    assert len(outbox_entries()) == before
    assert (ref.get().to_dict() or {})["status"] == "INITIALIZING"


def test_a_writer_that_dies_before_publishing_leaves_the_event_to_the_drain(
    events: Subscription,
) -> None:
    live_user()
    now = datetime.now(UTC)
    db = runtime.firestore_client()

    def dies(data: bytes, attributes: Any) -> str:
        raise SystemError("the instance is gone before Pub/Sub answered")

    dying = Outbox(db, make_publish=lambda: dies)
    PostStore(db, dying).create_post(UID, "post-1", post_doc(now))
    StatusStore(db, outbox=dying).abandon_upload(
        UID, "post-1", now, source="sweep", still=lambda _: True
    )
    assert events.pull() == []
    assert [e["state"] for e in outbox_entries()] == ["pending", "pending"]
    post = db.document(f"users/{UID}/posts/post-1").get().to_dict() or {}
    assert post["status"] == "FAILED"  # the change stands; only its publication is late

    # Within the writer's claim a drain leaves the entries alone (the writer may still publish).
    assert runtime.outbox().drain().published == 0
    later = Outbox(
        db, make_publish=runtime._publish_event, clock=lambda: datetime.now(UTC) + CLAIM * 2
    )
    results: list[int] = []
    drains = [threading.Thread(target=lambda: results.append(later.drain().published))]
    drains.append(threading.Thread(target=lambda: results.append(later.drain().published)))
    for thread in drains:
        thread.start()
    for thread in drains:
        thread.join()
    assert sum(results) == 2  # two drains at once: each entry published by one of them
    assert later.drain().published == 0
    bodies = [m["body"] for m in events.pull()]
    assert sorted(b["status"] for b in bodies) == ["FAILED", "INITIALIZING"]
    assert next(b for b in bodies if b["status"] == "FAILED")["reason"] == "upload_abandoned"
    assert {e["state"] for e in outbox_entries()} == {"sent"}


def test_account_status_changes_are_published_once_each(events: Subscription) -> None:
    live_user()
    now = datetime.now(UTC)
    store = runtime.account_store()
    store.save(account(now))  # connected: active
    store.save(account(now))  # reconnected while active: no change, no event
    reconnect = {"status": NEEDS_RECONNECT, "status_reason": "tiktok.invalid_grant"}
    store.update_checked(UID, OPEN_ID, lambda _: reconnect)
    store.update_checked(UID, OPEN_ID, lambda _: reconnect)  # already so: no event
    store.save(account(now))  # reconnected: back to active
    runtime.status_store().revoke_everywhere(OPEN_ID, "tiktok.authorization_removed.0", now)
    runtime.status_store().revoke_everywhere(OPEN_ID, "tiktok.authorization_removed.0", now)
    assert store.delete(UID, OPEN_ID)
    assert not store.delete(UID, OPEN_ID)  # already gone: no second event

    bodies = [m["body"] for m in events.pull()]
    assert [(b["status"], b["reason"]) for b in bodies] == [
        (ACTIVE, None),
        (NEEDS_RECONNECT, "tiktok.invalid_grant"),
        (ACTIVE, None),
        (REVOKED, "tiktok.authorization_removed.0"),
        ("disconnected", None),
    ]
    assert {(b["type"], b["open_id"]) for b in bodies} == {("account.status", OPEN_ID)}


def test_no_event_carries_a_token_url_title_or_caption(events: Subscription) -> None:
    live_user()
    now = datetime.now(UTC)
    store = runtime.account_store()
    store.save(account(now))
    posts = runtime.post_store()
    posts.create_post(UID, "post-1", post_doc(now))
    # A reason that is not a plain code (TikTok's text, a URL) is never passed on as it is.
    posts.update_post(UID, "post-1", {"status": "FAILED", "fail_reason": f"see {URL}"})
    store.update_checked(UID, OPEN_ID, lambda _: {"status": REVOKED, "status_reason": URL})

    messages = events.pull()
    assert len(messages) == 4
    stored = json.dumps([e["event"] for e in outbox_entries()])
    for text in (json.dumps(messages), stored):
        for secret in (SECRET_TOKEN, "ciphertext", "http", "example.com", "holiday", "#secret"):
            assert secret not in text
    assert [m["body"]["reason"] for m in messages][-2:] == ["other", "other"]


def test_deletion_publishes_its_own_events_and_nothing_else_of_the_user(
    events: Subscription,
) -> None:
    live_user()
    now = datetime.now(UTC)
    db = runtime.firestore_client()
    runtime.account_store().save(account(now))
    unsent = Outbox(db)  # a writer that wrote and was never heard of again: pending entries
    PostStore(db, unsent).create_post(UID, "post-1", post_doc(now))
    assert len(events.pull()) == 1  # the connect

    mark_deleting(runtime.user_data(), UID, now)
    # A request in flight changes a post's status after the tombstone: its event is dropped.
    runtime.post_store().update_post(UID, "post-1", {"status": "FAILED", "fail_reason": "x"})
    runtime.user_data().delete(UID, Budget(30))
    assert runtime.outbox().drain().published == 0  # nothing of the user is left to publish

    bodies = [m["body"] for m in events.pull()]
    assert [(b["type"], b["open_id"], b["status"]) for b in bodies] == [
        ("account.status", OPEN_ID, "deleted")
    ]
    assert outbox_entries() == []  # neither the user's events nor the deletion's remain
    # A second sweep (the scheduled final one) finds no account: no second deletion event.
    UserData(db, runtime.outbox()).delete(UID, Budget(30))
    assert events.pull() == []


def test_the_end_of_a_request_drains_what_a_writer_left_once_a_minute_never_at_a_cold_start(
    events: Subscription,
) -> None:
    runtime.reset()  # a fresh instance: it has not drained yet
    live_user()
    db = runtime.firestore_client()
    then = datetime.now(UTC) - CLAIM * 2  # a writer that died two claims ago
    left = Outbox(db, make_publish=runtime._publish_event, clock=lambda: then)
    left.commit(db.batch(), [post_event(UID, "post-1", "FAILED", "x", then)])
    left.commit(db.batch(), [post_event(UID, "post-2", "FAILED", "x", then)])
    for snapshot in db.collection(OUTBOX).stream():  # as if the publish never happened
        snapshot.reference.update({"state": "pending", "claim_until": then})
    events.pull()

    runtime.outbox()  # built: this instance writes statuses
    runtime.drain_events_after_request()  # its first request: the minute starts, no drain yet
    assert events.pull() == []
    runtime._last_drain[0] = time.monotonic() - runtime.DRAIN_EVERY  # ... and a minute later
    runtime.drain_events_after_request()
    assert sorted(m["body"]["post_id"] for m in events.pull()) == ["post-1", "post-2"]
    for snapshot in db.collection(OUTBOX).stream():
        snapshot.reference.update({"state": "pending", "claim_until": then})
    runtime.drain_events_after_request()  # within the minute: no second drain
    assert events.pull() == []
