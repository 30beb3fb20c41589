"""The event outbox: every status change of a post or an account, as an event to publish.

- ``event_outbox/{event_id}``: one event (``event``: the message body, docs/events.md), the
  ``uid`` it is about, ``state`` (``pending`` until published, then ``sent``), ``claim_until``
  (no drain touches an entry before then: its writer is publishing it), ``purge_with_user``
  (false only for the events that announce the deletion itself), ``created_at``, and
  ``expire_at`` (:data:`EVENT_TTL`; a TTL policy deletes the entry after it).

The stores write an entry in the same commit (a batch or a transaction) as the status change it
describes, so neither exists without the other. After the commit the writer publishes it and marks
it sent (:meth:`Outbox.committed`); :meth:`Outbox.drain` publishes whatever a writer left pending
(it crashed, or Pub/Sub failed). An entry is claimed (a write conditional on the update time read)
before it is published, so two drains never publish the same entry; a crash after the publish and
before the mark re-publishes it once its claim expires, with the same ``event_id``.

Events carry identifiers, statuses and reason codes only: never a token, URL, title or caption
(:func:`post_event` and :func:`account_event` take nothing else, and a reason that is not a plain
code is replaced by :data:`OTHER_REASON`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, TypedDict, cast

from shared.store.documents import to_firestore
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

    from shared.store.documents import OutboxChanges, OutboxEntry

log = logging.getLogger(__name__)

OUTBOX = "event_outbox"
POST_STATUS = "post.status"
ACCOUNT_STATUS = "account.status"
# Account statuses that exist only in events: the connection is gone, so no document holds them.
DISCONNECTED = "disconnected"
DELETED = "deleted"
PENDING: Final = "pending"
SENT: Final = "sent"
EVENT_TTL = timedelta(days=7)
CLAIM = timedelta(seconds=60)  # above a publish's own timeout (shared/pubsub.py: 30 s)
DRAIN_LIMIT = 200
OTHER_REASON = "other"
_REASON = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


class Event(TypedDict):
    """The body of one message on ``publisher-events`` (docs/events.md)."""

    type: str
    event_id: str
    uid: str
    post_id: str | None
    open_id: str | None
    status: str
    reason: str | None
    at: str


def _reason(reason: object) -> str | None:
    if reason is None:
        return None
    text = str(reason)
    return text if _REASON.match(text) else OTHER_REASON


def _at(at: object) -> str:
    moment = at if isinstance(at, datetime) else datetime.now(UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def post_event(uid: str, post_id: str, status: str, reason: object, at: object) -> Event:
    return _event(POST_STATUS, uid, post_id, None, status, reason, at)


def account_event(uid: str, open_id: str, status: str, reason: object, at: object) -> Event:
    return _event(ACCOUNT_STATUS, uid, None, open_id, status, reason, at)


def _event(
    kind: str,
    uid: str,
    post_id: str | None,
    open_id: str | None,
    status: str,
    why: object,
    at: object,
) -> Event:
    # A status's reason code (a post's fail_reason, an account's status_reason), not an error's
    # reason: built as a mapping so it is not mistaken for one.
    return {
        "type": kind,
        "event_id": uuid.uuid4().hex,
        "uid": uid,
        "post_id": post_id,
        "open_id": open_id,
        "status": status,
        "reason": _reason(why),
        "at": _at(at),
    }


def post_change(
    uid: str, post_id: str, before: Mapping[str, Any] | None, changes: Mapping[str, Any]
) -> Event | None:
    """The event for writing ``changes`` onto the post ``before`` (None: a new post), if they
    change its status, or the reason of its status (the sweep's "gave up" verdict replaced by
    TikTok's own failure). The reason is the post's ``fail_reason`` as it will be stored."""
    status = changes.get("status")
    if not status:
        return None
    reason = changes.get("fail_reason", (before or {}).get("fail_reason"))
    if before is not None and (before.get("status"), before.get("fail_reason")) == (status, reason):
        return None
    return post_event(uid, post_id, str(status), reason, changes.get("updated_at"))


def account_change(
    uid: str, open_id: str, before: str | None, changes: Mapping[str, Any]
) -> Event | None:
    """The event for writing ``changes`` onto an account whose status was ``before`` (None: no
    account yet), if its status changes."""
    status = changes.get("status")
    if not status or status == before:
        return None
    return account_event(
        uid, open_id, str(status), changes.get("status_reason"), changes.get("updated_at")
    )


def attributes(event: Event) -> dict[str, str]:
    """The message attributes: what a subscription filter or a de-duplicating subscriber uses."""
    return {"type": event["type"], "uid": event["uid"], "event_id": event["event_id"]}


def encode(event: Event) -> bytes:
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


# Publishes one event message (body, attributes) and returns Pub/Sub's message id.
Publish = Callable[[bytes, Mapping[str, str]], str]


@dataclass(frozen=True)
class Drained:
    published: int = 0
    dropped: int = 0  # deleted unpublished: about a user being deleted, or expired
    failed: int = 0


class Outbox:
    """Writes events along with status changes, and publishes them.

    ``make_publish`` builds the publisher on first use (the Pub/Sub client is heavy to import);
    None: this instance never publishes (entries wait for a drain elsewhere).
    """

    def __init__(
        self,
        db: firestore.Client,
        make_publish: Callable[[], Publish] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self._make_publish = make_publish
        self._publish: Publish | None = None
        self.clock = clock

    def ref(self, event_id: str) -> Any:
        return self.db.collection(OUTBOX).document(event_id)

    def stage(self, writes: Any, event: Event) -> None:
        """Add ``event``'s entry to ``writes`` (a WriteBatch or a Transaction, not yet committed).

        Claimed by this writer when it can publish, so no drain races its own publish."""
        now = self.clock()
        entry: OutboxEntry = {
            "event": event,
            "uid": event["uid"],
            "state": PENDING,
            "claim_until": now + CLAIM if self._make_publish else now,
            "purge_with_user": _purged(event),
            "created_at": now,
            "expire_at": now + EVENT_TTL,
        }
        writes.create(self.ref(event["event_id"]), to_firestore(entry))

    def commit(self, writes: Any, events: list[Event | None]) -> None:
        """Stage ``events`` in the batch ``writes``, commit it, then publish them."""
        staged = [e for e in events if e is not None]
        for event in staged:
            self.stage(writes, event)
        writes.commit()
        self.committed(staged)

    def committed(self, events: list[Event]) -> None:
        """Publish events whose entries were just committed by this writer; best effort: one that
        fails stays pending for the drain (the status change stands either way)."""
        if not events or self._make_publish is None:
            return
        for event in events:
            try:
                self._send(event, purge=_purged(event))
            except Exception:
                log.warning(
                    "publishing an event failed; the drain retries it",
                    extra={"event_id": event["event_id"], "type": event["type"]},
                    exc_info=True,
                )

    def drain(self, limit: int = DRAIN_LIMIT) -> Drained:
        """Publish entries left pending whose claim has expired, each claimed first."""
        from google.api_core import exceptions
        from google.cloud.firestore_v1.base_query import FieldFilter

        if self._make_publish is None:
            return Drained()
        now = self.clock()
        query = (
            self.db.collection(OUTBOX)
            .where(filter=FieldFilter("state", "==", PENDING))
            .where(filter=FieldFilter("claim_until", "<=", now))
            .order_by("claim_until")
            .limit(limit)
        )
        published = dropped = failed = 0
        for snapshot in query.stream():
            data = cast("OutboxEntry", snapshot.to_dict())  # a query yields only what exists
            # (.get: entries an older release wrote may lack the newer fields)
            if data.get("expire_at") is not None and data["expire_at"] <= now:
                # Unpublished for EVENT_TTL (Pub/Sub refused it all along): the TTL policy is due
                # to delete it; it is dropped, logged, rather than announced a week late.
                log.error("an event expired unpublished", extra={"event_id": snapshot.id})
                snapshot.reference.delete()
                dropped += 1
                continue
            try:
                claim: OutboxChanges = {"claim_until": now + CLAIM}
                snapshot.reference.update(
                    to_firestore(claim),
                    option=self.db.write_option(last_update_time=snapshot.update_time),
                )
            except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
                continue  # another drain has it, or it is gone
            event = data["event"]
            try:
                sent = self._send(event, purge=bool(data.get("purge_with_user")))
            except Exception:
                failed += 1
                log.warning(
                    "draining an event failed; retried after its claim",
                    extra={"event_id": event["event_id"]},
                    exc_info=True,
                )
                continue
            if sent:
                published += 1
            else:
                dropped += 1
        if published or dropped or failed:
            log.info(
                "event outbox drained",
                extra={"published": published, "dropped": dropped, "failed": failed},
            )
        return Drained(published, dropped, failed)

    def _send(self, event: Event, *, purge: bool) -> bool:
        """Publish the entry's event and mark it sent; False when it was dropped instead (its user
        is being deleted, and it is not the deletion's own event)."""
        ref = self.ref(event["event_id"])
        if purge and _being_deleted(self.db, event["uid"]):
            ref.delete()
            return False
        if self._publish is None:
            assert self._make_publish is not None
            self._publish = self._make_publish()
        message_id = self._publish(encode(event), attributes(event))
        if not purge:
            # The deletion's own events hold the uid of a user who is gone: kept no longer than
            # it takes to publish them.
            ref.delete()
        else:
            sent: OutboxChanges = {"state": SENT, "sent_at": self.clock(), "message_id": message_id}
            ref.update(to_firestore(sent))
        return True

    def purge_query(self, uid: str) -> Any:
        """The user's entries that go with their data (all but the deletion's own events)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return (
            self.db.collection(OUTBOX)
            .where(filter=FieldFilter("uid", "==", uid))
            .where(filter=FieldFilter("purge_with_user", "==", True))
        )


def _purged(event: Event) -> bool:
    return not (event["type"] == ACCOUNT_STATUS and event["status"] == DELETED)


def _being_deleted(db: firestore.Client, uid: str) -> bool:
    """The user's document is a deletion tombstone (shared/users/deletion.py)."""
    data = db.collection(USERS).document(uid).get().to_dict()
    return data is not None and "deleting_since" in data
