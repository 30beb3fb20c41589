"""Webhook signature and body checks, and the status order, without servers."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from shared import errors
from shared.status.order import GAVE_UP, Observation, merge
from shared.status.webhooks import parse_event, verify_signature
from shared.store.documents import PostDoc

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RAW = b'{"client_key":"ck","event":"post.publish.complete","create_time":1,"content":"{}"}'


def header(raw: bytes = RAW, t: int | None = None, secret: str = SECRET) -> str:
    stamp = int(NOW.timestamp()) if t is None else t
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}"


def test_a_signature_over_t_dot_raw_body_with_the_client_secret_verifies() -> None:
    verify_signature(header(), RAW, SECRET, NOW)
    verify_signature(header(t=int(NOW.timestamp()) - 299), RAW, SECRET, NOW)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, errors.Unauthenticated),
        ("", errors.Unauthenticated),
        ("t=1", errors.InvalidArgument),
        ("s=" + "0" * 64, errors.InvalidArgument),
        ("t=x,s=" + "0" * 64, errors.InvalidArgument),
        ("t=1,s=zz", errors.InvalidArgument),
        ("t=1,t=2,s=" + "0" * 64, errors.InvalidArgument),
    ],
)
def test_a_malformed_header_is_refused(value: str | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        verify_signature(value, RAW, SECRET, NOW)


def test_wrong_secret_altered_body_and_stale_or_future_timestamps_are_refused() -> None:
    stale = int((NOW - timedelta(seconds=301)).timestamp())
    future = int((NOW + timedelta(seconds=301)).timestamp())
    for value, raw in (
        (header(secret="other"), RAW),
        (header(), RAW + b" "),
        (header(t=stale), RAW),
        (header(t=future), RAW),
    ):
        with pytest.raises(errors.Unauthenticated):
            verify_signature(value, raw, SECRET, NOW)


def test_content_is_parsed_twice_and_the_client_key_must_match() -> None:
    body = {"client_key": "ck", "event": "e", "create_time": 5, "content": '{"reason": 1}'}
    event = parse_event(json.dumps(body).encode(), "ck")
    assert event.content == {"reason": 1}
    with pytest.raises(errors.Unauthenticated):
        parse_event(json.dumps(body).encode(), "other")
    for bad in (b"[]", b"{", json.dumps({**body, "create_time": "5"}).encode()):
        with pytest.raises(errors.InvalidArgument):
            parse_event(bad, "ck")


def test_status_never_moves_backwards_and_terminal_stays() -> None:
    # Stored posts with only the fields merge() reads, cast as the post store casts what it reads.
    doc = cast("PostDoc", {"status": "PUBLISH_COMPLETE", "post_ids": ["1"]})
    assert merge(doc, Observation("webhook", "PROCESSING_UPLOAD"), NOW) == {}
    assert merge(doc, Observation("webhook", "FAILED", "internal"), NOW) == {}
    inbox = cast("PostDoc", {"status": "SEND_TO_USER_INBOX"})
    assert merge(inbox, Observation("webhook", "PUBLISH_COMPLETE"), NOW)["status"] == (
        "PUBLISH_COMPLETE"
    )
    gave_up = cast("PostDoc", {"status": "FAILED", "fail_reason": GAVE_UP})
    assert merge(gave_up, Observation("webhook", "PUBLISH_COMPLETE"), NOW)["fail_reason"] is None


def test_post_ids_are_a_union_of_strings_and_progress_only_grows() -> None:
    doc = cast(
        "PostDoc",
        {"status": "PROCESSING_UPLOAD", "post_ids": ["9007199254740993"], "uploaded_bytes": 50},
    )
    changes = merge(
        doc, Observation("poll", post_ids=("9007199254740993", "2"), uploaded_bytes=10), NOW
    )
    assert changes["post_ids"] == ["9007199254740993", "2"]
    assert "uploaded_bytes" not in changes
