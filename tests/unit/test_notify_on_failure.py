"""The example subscriber (examples/notify_on_failure.py) fed the Pub/Sub CloudEvent Eventarc
delivers, carrying events built by the backend's own outbox code."""

from __future__ import annotations

import base64
from email.message import EmailMessage
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from examples.notify_on_failure import Mailer, handle
from shared.store.outbox import account_event, attributes, encode, post_event

ADDRESS = "creator@example.com"


def pubsub_event(body: bytes, attrs: dict[str, str]) -> CloudEvent:
    """What Eventarc hands a function triggered by a Pub/Sub topic."""
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/example/topics/publisher-events",
        },
        {
            "message": {
                "data": base64.b64encode(body).decode(),
                "attributes": attrs,
                "messageId": "1",
                "publishTime": "2026-12-01T23:50:05Z",
            },
            "subscription": "projects/example/subscriptions/notify",
        },
    )


class Recorder:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self.seen: set[str] = set()

    def first_time(self, event_id: str) -> bool:
        new = event_id not in self.seen
        self.seen.add(event_id)
        return new

    def mailer(self, address: str | None = ADDRESS, send: Any = None) -> Mailer:
        return Mailer(
            lambda uid: address,
            self.first_time,
            self.seen.discard,
            send or self.sent.append,
            "alerts@example.com",
        )


def delivered(event: Any) -> CloudEvent:
    return pubsub_event(encode(event), attributes(event))


def test_a_failed_post_mails_its_user_once_whatever_the_redeliveries() -> None:
    recorder = Recorder()
    failed = post_event("u1", "post-9", "FAILED", "file_format_check_failed", None)
    assert handle(delivered(failed).data, recorder.mailer())
    assert not handle(delivered(failed).data, recorder.mailer())  # redelivered: no second mail
    (mail,) = recorder.sent
    assert mail["To"] == ADDRESS
    assert mail["Subject"] == "Your TikTok post could not be published"
    content = mail.get_content()
    assert "post-9" in content
    assert "file_format_check_failed" in content


def test_other_events_and_users_without_an_address_mail_nobody() -> None:
    recorder = Recorder()
    for event in (
        post_event("u1", "post-9", "PUBLISH_COMPLETE", None, None),
        account_event("u1", "open-1", "needs_reconnect", "tiktok.invalid_grant", None),
    ):
        assert not handle(delivered(event).data, recorder.mailer())
    failed = post_event("u1", "post-9", "FAILED", None, None)
    assert not handle(delivered(failed).data, recorder.mailer(address=None))
    assert recorder.sent == []


def test_a_mail_that_could_not_be_sent_is_sent_on_the_redelivery() -> None:
    recorder = Recorder()
    failed = post_event("u1", "post-9", "FAILED", None, None)

    def relay_down(message: EmailMessage) -> None:
        raise OSError("connection refused")

    with pytest.raises(OSError, match="refused"):
        handle(delivered(failed).data, recorder.mailer(send=relay_down))
    assert handle(delivered(failed).data, recorder.mailer())
    assert len(recorder.sent) == 1
