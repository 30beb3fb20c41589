"""TikTok's webhook (docs/tiktok-api.md §5): verify, process each delivery once, acknowledge fast.

Order of work, each step raising before the next:

1. :func:`verify_signature` checks ``TikTok-Signature: t=<unix>,s=<hex>``: HMAC-SHA256 with the
   app's client secret over ``"{t}.{raw body}"``, compared in constant time, ``t`` within
   :data:`TOLERANCE` of now, all on the raw bytes before any parsing
   (https://developers.tiktok.com/doc/webhooks-verification).
2. :func:`parse_event` reads the body: ``client_key`` must be ours, ``content`` is a JSON document
   inside a string (parsed twice).
3. :func:`handle` claims a receipt named by the body's SHA-256 (TikTok delivers at least once and
   retries for 72 hours), applies the event, and marks the receipt done; a failure drops the
   receipt and raises, so TikTok's retry is processed.

Nothing is stored for a delivery refused in steps 1 and 2.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.status.order import Observation

if TYPE_CHECKING:
    from shared.store.documents import ReceiptFields
    from shared.store.status import StatusStore

log = logging.getLogger(__name__)

TOLERANCE = timedelta(minutes=5)  # TikTok names no number; 300 s is what public examples use.
BODY_LIMIT = 64 * 1024
# A receipt left "processing" this long belongs to a handler that died: the retry takes over.
ABANDONED_AFTER = timedelta(seconds=60)
# A publish id we do not know yet may belong to an init whose answer is still being recorded:
# refuse recent ones so TikTok retries, acknowledge old ones (a deleted post, another system).
UNKNOWN_PUBLISH_GRACE = timedelta(minutes=10)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

STATUS_EVENTS = {
    "post.publish.failed": "FAILED",
    "post.publish.complete": "PUBLISH_COMPLETE",
    "post.publish.inbox_delivered": "SEND_TO_USER_INBOX",
}
PUBLIC_EVENT = "post.publish.publicly_available"
# TikTok's docs spell it "publicaly"; some integrations listen for "publicly": accept both (§5.3).
WITHDRAWN_EVENTS = frozenset(
    {"post.publish.no_longer_publicaly_available", "post.publish.no_longer_publicly_available"}
)
REVOKE_EVENT = "authorization.removed"
REVOKE_REASONS = {
    0: "unknown",
    1: "user_disconnected",
    2: "account_deleted",
    3: "age_changed",
    4: "account_banned",
    5: "developer_revoked",
}


@dataclass(frozen=True)
class Event:
    """One verified webhook body; ``content`` already parsed from its string."""

    event: str
    create_time: int
    user_openid: str | None
    content: dict[str, Any]


def verify_signature(header: str | None, raw: bytes, secret: str, now: datetime) -> None:
    """Raise Unauthenticated unless ``header`` signs ``raw`` with ``secret`` within the window."""
    if not header:
        raise errors.Unauthenticated("TikTok-Signature is missing", reason="webhook.signature")
    parts: dict[str, str] = {}
    for element in header.split(","):
        key, sep, value = element.strip().partition("=")
        if not sep or key in parts:
            raise errors.InvalidArgument(
                "TikTok-Signature is malformed", reason="webhook.signature_malformed"
            )
        parts[key] = value
    timestamp, signature = parts.get("t", ""), parts.get("s", "").lower()
    if not timestamp.isdigit() or not _HEX64.match(signature):
        raise errors.InvalidArgument(
            "TikTok-Signature is malformed", reason="webhook.signature_malformed"
        )
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise errors.Unauthenticated("TikTok-Signature does not match", reason="webhook.signature")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise errors.Unauthenticated(
            "TikTok-Signature timestamp is outside the 5-minute window",
            reason="webhook.signature_stale",
        )


def parse_event(raw: bytes, client_key: str) -> Event:
    """The body as an Event; InvalidArgument when malformed, Unauthenticated for another app."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise errors.InvalidArgument("the body is not JSON", reason="webhook.body") from None
    if not isinstance(body, dict):
        raise errors.InvalidArgument("the body is not a JSON object", reason="webhook.body")
    if body.get("client_key") != client_key:
        raise errors.Unauthenticated("client_key is not this app's", reason="webhook.client_key")
    event, create_time = body.get("event"), body.get("create_time")
    if not isinstance(event, str) or not event:
        raise errors.InvalidArgument("event is missing", reason="webhook.body")
    if not isinstance(create_time, int) or isinstance(create_time, bool):
        raise errors.InvalidArgument("create_time is not epoch seconds", reason="webhook.body")
    openid = body.get("user_openid")
    if openid is not None and not isinstance(openid, str):
        raise errors.InvalidArgument("user_openid is not a string", reason="webhook.body")
    raw_content = body.get("content", "{}")
    try:
        content = json.loads(raw_content) if isinstance(raw_content, str) else raw_content
    except json.JSONDecodeError:
        raise errors.InvalidArgument(
            "content is not a JSON string", reason="webhook.body"
        ) from None
    if not isinstance(content, dict):
        raise errors.InvalidArgument("content is not a JSON object", reason="webhook.body")
    return Event(event=event, create_time=create_time, user_openid=openid, content=content)


def event_id(raw: bytes) -> str:
    """A delivery's identity: TikTok's retries resend the same body."""
    return hashlib.sha256(raw).hexdigest()


def handle(store: StatusStore, raw: bytes, event: Event, now: datetime) -> str:
    """Apply ``event`` once; returns what happened (``duplicate``, ``applied``, ...)."""
    receipt_id = event_id(raw)
    fields: ReceiptFields = {"event": event.event, "create_time": event.create_time}
    if not store.claim_receipt(receipt_id, now, fields):
        existing = store.receipt(receipt_id)
        # Gone meanwhile: its handler failed and dropped it, and TikTok retries that delivery.
        abandoned = existing is not None and (
            existing["state"] == "processing" and now - existing["received_at"] > ABANDONED_AFTER
        )
        if not abandoned:
            return "duplicate"  # Applying an event is idempotent, so a takeover is safe too.
    try:
        outcome = _apply(store, event, now)
    except BaseException:
        store.drop_receipt(receipt_id)
        raise
    store.finish_receipt(receipt_id, outcome, now)
    log.info(
        "webhook processed",
        extra={"event": event.event, "outcome": outcome, "create_time": event.create_time},
    )
    return outcome


def _apply(store: StatusStore, event: Event, now: datetime) -> str:
    if event.event == REVOKE_EVENT:
        return _revoke(store, event, now)
    seen = _observation(event)
    if seen is None:
        log.info("webhook event not handled; acknowledged", extra={"event": event.event})
        return "ignored"
    publish_id = event.content.get("publish_id")
    if not isinstance(publish_id, str) or not publish_id:
        raise errors.InvalidArgument("content.publish_id is missing", reason="webhook.body")
    found = store.find_post(publish_id)
    if found is None:
        if now.timestamp() - event.create_time < UNKNOWN_PUBLISH_GRACE.total_seconds():
            raise errors.Unavailable(
                "publish_id not known yet; retry later", reason="webhook.unknown_publish_id"
            )
        log.info("webhook for an unknown publish_id acknowledged", extra={"event": event.event})
        return "unknown_publish_id"
    uid, post_id = found
    applied = store.apply(uid, post_id, seen, now)
    if applied is None:
        return "post_deleted"
    return "applied" if applied[1] else "no_change"


def _post_id(content: dict[str, Any]) -> tuple[str, ...]:
    value = content.get("post_id")
    # Ids exceed 2**53: a string or an exact int is kept as a string, never through a float.
    if isinstance(value, int) and not isinstance(value, bool):
        return (str(value),)
    if isinstance(value, str) and value.isdigit():
        return (value,)
    raise errors.InvalidArgument("content.post_id is not a whole number", reason="webhook.body")


def _observation(event: Event) -> Observation | None:
    content = event.content
    if event.event in STATUS_EVENTS:
        status = STATUS_EVENTS[event.event]
        reason = content.get("reason") if status == "FAILED" else None
        return Observation(
            source="webhook",
            status=status,
            fail_reason=str(reason) if reason is not None else None,
        )
    if event.event == PUBLIC_EVENT:
        # Public means TikTok finished the post, even if "complete" has not arrived yet.
        return Observation(source="webhook", status="PUBLISH_COMPLETE", post_ids=_post_id(content))
    if event.event in WITHDRAWN_EVENTS:
        return Observation(source="webhook", withdrawn_post_ids=_post_id(content))
    return None


def _revoke(store: StatusStore, event: Event, now: datetime) -> str:
    """The user removed the app at TikTok: tokens deleted, every connection marked revoked (P13)."""
    if not event.user_openid:
        raise errors.InvalidArgument("user_openid is missing", reason="webhook.body")
    code = event.content.get("reason", 0)
    reason = REVOKE_REASONS.get(code, "unknown") if isinstance(code, int) else "unknown"
    uids = store.revoke_everywhere(event.user_openid, f"tiktok.authorization_removed.{reason}", now)
    log.info("authorization removed at TikTok", extra={"connections": len(uids), "why": reason})
    return "revoked" if uids else "no_account"
