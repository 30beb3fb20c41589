"""The event outbox: every status change of a post or an account, as an event to publish.

- ``event_outbox/{event_id}``: one event (``event``: the message body, docs/events.md), the
  ``uid`` it is about, ``state`` (``pending`` until published, then ``sent``), ``claim_until``
  (no drain touches an entry before then: its writer is publishing it), ``purge_with_user``
  (false only for the events that announce the deletion itself), ``created_at``, and
  ``expire_at`` (:data:`EVENT_TTL`; a TTL policy deletes the entry after it).

The stores write an entry in the same commit (a batch or a transaction) as the status change it
describes, so neither exists without the other. After the commit the writer publishes it and marks
it sent (:meth:`Outbox.committed`; a writer of several commits for one user may publish their
events together after one check of the user, :meth:`Outbox.publish_deferred`, and mark them in
one commit, :meth:`Outbox.mark_sent`); :meth:`Outbox.drain` publishes whatever a writer left pending
(it crashed, or Pub/Sub failed). An entry is claimed (a write conditional on the update time read)
before it is published, so two drains never publish the same entry; a crash after the publish and
before the mark re-publishes it once its claim expires, with the same ``event_id``.

Events carry identifiers, statuses and reason codes only: never a token, URL, title or caption
(:func:`post_event` and :func:`account_event` take nothing else, and a reason that is not a plain
code is replaced by :data:`OTHER_REASON`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
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
# Publishes several at once: for each, its message id or the exception it failed with.
PublishAll = Callable[[list[tuple[bytes, Mapping[str, str]]]], list[str | Exception]]


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
        make_publish_all: Callable[[], PublishAll] | None = None,
    ) -> None:
        self.db = db
        self._make_publish = make_publish
        self._publish: Publish | None = None
        self._make_publish_all = make_publish_all
        self._publish_all: PublishAll | None = None
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

    def commit(
        self, writes: Any, events: list[Event | None], *, deferred: list[Event] | None = None
    ) -> list[Any]:
        """Stage ``events`` in the batch ``writes``, commit it, then publish them; the commit's
        write results (each write's update time). With ``deferred``, the events are appended to it
        instead, for the writer to publish with :meth:`publish_deferred` after its own later
        writes (one check of the user for them all)."""
        staged = [e for e in events if e is not None]
        for event in staged:
            self.stage(writes, event)
        results: list[Any] = writes.commit()
        if deferred is None:
            self.committed(staged)
        else:
            deferred.extend(staged)
        return results

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

    def publish_deferred(
        self, events: list[Event], *, being_deleted: bool | None = None
    ) -> list[tuple[Event, str]]:
        """Publish events of one user that this writer committed with ``deferred``; the
        (event, message id) pairs published, which :meth:`mark_sent` then marks in one batch.

        ``being_deleted`` is the user's state as the writer read it after its last commit of
        them (None: read here). That one read stands for the per-event read of
        :meth:`committed`, in the same order: after the commits, before publishing. A user being
        deleted gets none of them (their entries are deleted, as :meth:`committed` does)."""
        if not events or self._make_publish is None:
            return []
        uid = events[0]["uid"]
        assert all(e["uid"] == uid for e in events), "one user's events"
        purged = [e for e in events if _purged(e)]
        if being_deleted is None:
            being_deleted = bool(purged) and _being_deleted(self.db, uid)
        wanted: list[Event] = []
        for event in events:
            if being_deleted and _purged(event):
                with _logged("dropping a deleted user's event failed", event):
                    self.ref(event["event_id"]).delete()
            else:
                wanted.append(event)
        sent: list[tuple[Event, str]] = []
        if len(wanted) > 1 and self._make_publish_all is not None:
            if self._publish_all is None:
                self._publish_all = self._make_publish_all()
            answers: list[str | Exception]
            try:
                answers = self._publish_all([(encode(e), attributes(e)) for e in wanted])
            except Exception as exc:  # none is known to be published: all left to the drain
                answers = [exc] * len(wanted)
            for event, answer in zip(wanted, answers, strict=True):
                if isinstance(answer, str):
                    sent.append((event, answer))
                    continue
                with _logged("publishing an event failed; the drain retries it", event):
                    raise answer
            return sent
        for event in wanted:
            with _logged("publishing an event failed; the drain retries it", event):
                sent.append((event, self._publish_one(event)))
        return sent

    def mark_sent(self, sent: list[tuple[Event, str]]) -> None:
        """Mark entries published by :meth:`publish_deferred` sent, in one commit (each on its own
        if that fails: one entry deleted meanwhile must not keep the others pending)."""
        if not sent:
            return
        now = self.clock()
        batch = self.db.batch()
        for event, message_id in sent:
            self._mark(batch, event, message_id, now)
        try:
            batch.commit()
        except Exception:
            log.info("marking events sent in one commit failed; marking them one by one")
        else:
            return
        from google.api_core import exceptions

        for event, message_id in sent:
            single = self.db.batch()
            self._mark(single, event, message_id, now)
            with (
                _logged("marking an event sent failed; the drain re-publishes it", event),
                contextlib.suppress(exceptions.NotFound),  # deleted meanwhile: nothing to mark
            ):
                single.commit()

    def _mark(self, writes: Any, event: Event, message_id: str, now: datetime) -> None:
        ref = self.ref(event["event_id"])
        if _purged(event):
            writes.update(ref, {"state": SENT, "sent_at": now, "message_id": message_id})
        else:
            writes.delete(ref)  # the deletion's own events: kept no longer than publishing them

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
        message_id = self._publish_one(event)
        if not purge:
            # The deletion's own events hold the uid of a user who is gone: kept no longer than
            # it takes to publish them.
            ref.delete()
        else:
            sent: OutboxChanges = {"state": SENT, "sent_at": self.clock(), "message_id": message_id}
            ref.update(to_firestore(sent))
        return True

    def _publish_one(self, event: Event) -> str:
        if self._publish is None:
            assert self._make_publish is not None
            self._publish = self._make_publish()
        return self._publish(encode(event), attributes(event))

    def purge_query(self, uid: str) -> Any:
        """The user's entries that go with their data (all but the deletion's own events)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return (
            self.db.collection(OUTBOX)
            .where(filter=FieldFilter("uid", "==", uid))
            .where(filter=FieldFilter("purge_with_user", "==", True))
        )


@contextlib.contextmanager
def _logged(message: str, event: Event) -> Iterator[None]:
    """Best effort: a failure is logged and the entry stays for the drain."""
    try:
        yield
    except Exception:
        log.warning(
            message, extra={"event_id": event["event_id"], "type": event["type"]}, exc_info=True
        )


def _purged(event: Event) -> bool:
    return not (event["type"] == ACCOUNT_STATUS and event["status"] == DELETED)


def _being_deleted(db: firestore.Client, uid: str) -> bool:
    """The user's document is a deletion tombstone (shared/users/deletion.py)."""
    data = db.collection(USERS).document(uid).get().to_dict()
    return data is not None and "deleting_since" in data
