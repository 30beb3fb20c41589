"""An example subscriber to ``publisher-events`` (docs/events.md): mails the user when a post fails.

A Cloud Function of its own (2nd gen, triggered by the topic), deployed next to the backend by
the operator; it imports nothing of the backend. It reads the user's e-mail address from their
``users/{uid}`` document, sends one message through the operator's SMTP relay, and records the
event's ``event_id`` first (a ``create()`` in ``notified/{event_id}``), so a redelivered or
re-published event mails nobody twice (those records carry ``expire_at``, 30 days, for a TTL
policy). Deploy it from a directory holding this file as ``main.py`` and a ``requirements.txt``
naming functions-framework and google-cloud-firestore (README, "Subscribing to status events"):

    gcloud functions deploy notify-on-failure --gen2 --runtime=python312 --region=REGION \\
      --source=DIR --entry-point=notify_on_failure --trigger-topic=publisher-events \\
      --set-env-vars=SMTP_HOST=smtp.example.com,SMTP_PORT=587,MAIL_FROM=alerts@example.com
"""

from __future__ import annotations

import base64
import functools
import json
import os
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import functions_framework

FAILED = "FAILED"
KEEP_NOTIFIED = timedelta(days=30)  # longer than Pub/Sub keeps a message (7 days by default)


@dataclass(frozen=True)
class Mailer:
    """What the handler needs: the user's address, a once-only check, and a way to send."""

    address_of: Callable[[str], str | None]  # uid -> e-mail address, or None
    first_time: Callable[[str], bool]  # event_id -> False if it was handled already
    forget: Callable[[str], None]  # event_id: not handled after all (the mail failed)
    send: Callable[[EmailMessage], None]
    sender: str


def event_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The status event inside a Pub/Sub CloudEvent's data (``message.data``, base64 JSON)."""
    raw = data.get("message", {}).get("data", "")
    event: dict[str, Any] = json.loads(base64.b64decode(raw))
    return event


def handle(data: Mapping[str, Any], mailer: Mailer) -> bool:
    """Mail the user about a failed post; whether a mail was sent."""
    event = event_of(data)
    if event.get("type") != "post.status" or event.get("status") != FAILED:
        return False
    address = mailer.address_of(str(event["uid"]))
    if not address or not mailer.first_time(str(event["event_id"])):
        return False
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = address
    message["Subject"] = "Your TikTok post could not be published"
    reason = event.get("reason") or "no reason given"
    message.set_content(
        f"Your post {event['post_id']} failed at {event['at']} ({reason}).\n"
        "Open the app to see it and try again.\n"
    )
    try:
        mailer.send(message)
    except Exception:
        mailer.forget(str(event["event_id"]))  # so Pub/Sub's redelivery tries again
        raise
    return True


@functools.cache
def _mailer() -> Mailer:
    from google.cloud import firestore

    db = firestore.Client()
    host, port = os.environ["SMTP_HOST"], int(os.environ.get("SMTP_PORT", "587"))

    def address_of(uid: str) -> str | None:
        doc = db.collection("users").document(uid).get().to_dict() or {}
        email = doc.get("email")
        return str(email) if email and "deleting_since" not in doc else None

    def first_time(event_id: str) -> bool:
        from google.api_core import exceptions

        try:
            now = datetime.now(UTC)
            record = {"at": now, "expire_at": now + KEEP_NOTIFIED}
            db.collection("notified").document(event_id).create(record)
        except exceptions.AlreadyExists:
            return False
        return True

    def forget(event_id: str) -> None:
        db.collection("notified").document(event_id).delete()

    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(host, port, timeout=20) as smtp:
            smtp.starttls()
            smtp.send_message(message)

    return Mailer(address_of, first_time, forget, send, os.environ["MAIL_FROM"])


@functions_framework.cloud_event
def notify_on_failure(cloud_event: Any) -> None:
    handle(cloud_event.data, _mailer())
