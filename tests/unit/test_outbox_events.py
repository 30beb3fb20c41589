"""What an event says about a change (shared/store/outbox.py), without Firestore."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from shared.store.outbox import account_change, attributes, encode, post_change

AT = datetime(2026, 12, 1, 23, 50, 4, 512118, tzinfo=UTC)


def test_a_new_post_has_its_first_status_as_event() -> None:
    event = post_change("u1", "p1", None, {"status": "INITIALIZING", "updated_at": AT})
    assert event is not None
    assert {k: v for k, v in event.items() if k != "event_id"} == {
        "type": "post.status",
        "uid": "u1",
        "post_id": "p1",
        "open_id": None,
        "status": "INITIALIZING",
        "reason": None,
        "at": "2026-12-01T23:50:04.512118Z",
    }
    assert len(event["event_id"]) == 32
    assert attributes(event) == {"type": "post.status", "uid": "u1", "event_id": event["event_id"]}
    assert json.loads(encode(event)) == event


def test_only_a_change_of_status_or_of_its_reason_is_an_event() -> None:
    before = {"status": "PROCESSING_DOWNLOAD", "fail_reason": None}
    assert post_change("u1", "p1", before, {"downloaded_bytes": 5}) is None
    assert post_change("u1", "p1", before, {"status": "PROCESSING_DOWNLOAD"}) is None
    gave_up = {"status": "FAILED", "fail_reason": "status_unknown_timeout"}
    tiktoks = post_change("u1", "p1", gave_up, {"status": "FAILED", "fail_reason": "spam_risk"})
    assert tiktoks is not None
    assert tiktoks["reason"] == "spam_risk"
    assert account_change("u1", "o1", "active", {"status": "active"}) is None
    revoked = account_change("u1", "o1", "active", {"status": "revoked", "status_reason": "x.y"})
    assert revoked is not None
    assert (revoked["type"], revoked["open_id"]) == ("account.status", "o1")
    assert revoked["post_id"] is None


def test_a_reason_that_is_not_a_plain_code_is_never_passed_on() -> None:
    for text in ("see https://cdn.example.com/v.mp4", "two words", "x" * 101, "a/b"):
        event = post_change("u1", "p1", None, {"status": "FAILED", "fail_reason": text})
        assert event is not None
        assert event["reason"] == "other"


def test_the_time_is_utc_whatever_the_writers_offset() -> None:
    local = AT.astimezone(timezone(timedelta(hours=-5)))
    event = account_change("u1", "o1", None, {"status": "active", "updated_at": local})
    assert event is not None
    assert event["at"] == "2026-12-01T23:50:04.512118Z"
