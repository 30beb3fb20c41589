"""Firestore access for posts, drafts and idempotency keys.

- ``users/{uid}/posts/{post_id}``: one publish: account, mode, media, the user's settings,
  TikTok's ``publish_id`` (stored the moment init returns, before any upload), status in TikTok's
  names, the chunk plan and upload progress, and the upload URL only as vault ciphertext
  (``upload_url_enc``). Never a media byte.
- ``users/{uid}/drafts/{draft_id}``: a pending publish request with ``expire_at`` 30 minutes after
  creation (a TTL policy deletes it later; every read treats an expired draft as gone).
- ``idempotency/{sha256(uid, key)}``: the first result of a ``POST /api/publish`` with that
  ``Idempotency-Key`` (``expire_at`` 24 hours).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.store.outbox import Event, Outbox, post_change
from shared.store.query import where
from shared.store.users import USERS, LiveUsers, checked_id

if TYPE_CHECKING:
    from google.cloud import firestore

    from shared.store.scheduled import ScheduleStore

_WRITE_ATTEMPTS = 20

POSTS = "posts"
DRAFTS = "drafts"
IDEMPOTENCY = "idempotency"

# TikTok's status names (docs/tiktok-api.md §3.6) plus the states that exist only on our side:
# INITIALIZING (recorded before init is sent), UNKNOWN (init's outcome could not be learnt),
# SCHEDULED (waiting for its time; TikTok knows nothing of it yet) and CANCELLED (a scheduled
# post the user cancelled before it was sent).
SCHEDULED = "SCHEDULED"
CANCELLED = "CANCELLED"
FINAL_STATUSES = frozenset({"PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED", CANCELLED})


def post_path(uid: str, post_id: str) -> str:
    return f"{USERS}/{uid}/{POSTS}/{checked_id(post_id, 'post')}"


def idempotency_id(uid: str, key: str) -> str:
    return hashlib.sha256(f"{uid}\0{key}".encode()).hexdigest()


class AlreadyClaimed(Exception):
    """A create() found the document already there; ``existing`` is its data."""

    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__("already exists")
        self.existing = existing


class PostStore(LiveUsers):
    """Typed access to posts, drafts and idempotency records."""

    def __init__(self, db: firestore.Client, outbox: Outbox | None = None) -> None:
        self.db = db
        # Every status written here is an event, committed with it (shared/store/outbox.py).
        self.outbox = outbox or Outbox(db)

    @property
    def schedules(self) -> ScheduleStore:
        """The scheduled posts among these (shared/store/scheduled.py), with the same outbox."""
        from shared.store.scheduled import ScheduleStore

        return ScheduleStore(self.db, self.outbox)

    # Posts -----------------------------------------------------------------------------------

    def new_post_id(self, uid: str) -> str:
        ref: Any = self.db.collection(USERS, uid, POSTS).document()
        post_id: str = ref.id
        return post_id

    def create_post(self, uid: str, post_id: str, doc: dict[str, Any]) -> None:
        """Create the post, and the event of its first status in the same commit."""
        batch = self.db.batch()
        batch.create(self.db.document(post_path(uid, post_id)), doc)
        self.outbox.commit(batch, [post_change(uid, post_id, None, doc)])

    def get_post(self, uid: str, post_id: str) -> dict[str, Any] | None:
        return self.db.document(post_path(uid, post_id)).get().to_dict()

    def update_post(
        self,
        uid: str,
        post_id: str,
        changes: dict[str, Any],
        *,
        known: tuple[dict[str, Any], Any] | None = None,
        also: Callable[[Any], None] | None = None,
        deferred: list[Event] | None = None,
    ) -> None:
        """Change an existing post; NotFound (``post.gone``) when it was deleted meanwhile (the
        user deleted their data while this request ran): an update never recreates it.

        For a status change: ``known`` is the post and its update time as this writer last wrote
        it (no read first; if it changed since, the post is read as usual); ``also`` adds more
        writes to the same commit; ``deferred`` collects the event instead of publishing it
        (:meth:`Outbox.commit`)."""
        from google.api_core import exceptions

        from shared.errors import Aborted, NotFound

        gone = NotFound(
            "this post no longer exists: it was deleted while the request was running",
            reason="post.gone",
        )
        ref = self.db.document(post_path(uid, post_id))
        if "status" not in changes:
            try:
                ref.update(changes)
            except exceptions.NotFound:
                raise gone from None
            return
        # A status change: written onto the version read (so its event names the status it
        # replaced), with that event, in one commit.
        for _ in range(_WRITE_ATTEMPTS):
            if known is not None:
                (before, version), known = known, None
            else:
                snapshot = ref.get()
                read: dict[str, Any] | None = snapshot.to_dict()
                if read is None:
                    raise gone
                before, version = read, snapshot.update_time
            batch = self.db.batch()
            batch.update(ref, changes, option=self.db.write_option(last_update_time=version))
            if also is not None:
                also(batch)
            event = post_change(uid, post_id, before, changes)
            try:
                self.outbox.commit(batch, [event], deferred=deferred)
            except exceptions.NotFound:
                raise gone from None
            except (exceptions.FailedPrecondition, exceptions.Aborted):
                continue
            return
        raise Aborted("the post kept changing while it was updated", reason="post.contended")

    def publish_ids(self, uid: str, open_id: str, *, statuses: Iterable[str]) -> list[str]:
        """TikTok's publish_id of each of the account's posts whose status is in ``statuses``."""
        query = where(self.db.collection(USERS, uid, POSTS), "status", "in", list(statuses))
        return [
            str(doc["publish_id"])
            for doc in (s.to_dict() or {} for s in query.stream())
            if doc.get("open_id") == open_id and doc.get("publish_id")
        ]

    def delete_post(self, uid: str, post_id: str) -> None:
        self.db.document(post_path(uid, post_id)).delete()

    def get_post_versioned(self, uid: str, post_id: str) -> tuple[dict[str, Any], Any] | None:
        """The post and the update time it was read at (for :meth:`claim_chunk`)."""
        snapshot = self.db.document(post_path(uid, post_id)).get()
        data = snapshot.to_dict()
        return (data, snapshot.update_time) if data is not None else None

    def claim_chunk(self, uid: str, post_id: str, read_at: Any, until: datetime) -> None:
        """Mark the post's next chunk as being relayed, if the post is still as read at ``read_at``.

        A write conditioned on the update time (one round trip, no transaction: the emulator
        stalls contended transactions) makes two requests for one upload exclusive: the second
        finds the document changed and gets AlreadyClaimed (the caller re-reads the post).
        """
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post_id))
        try:
            ref.update(
                {"chunk_claim_until": until},
                option=self.db.write_option(last_update_time=read_at),
            )
        except (exceptions.FailedPrecondition, exceptions.NotFound, exceptions.Aborted):
            raise AlreadyClaimed({}) from None

    # Drafts ----------------------------------------------------------------------------------

    def create_draft(self, uid: str, doc: dict[str, Any]) -> str:
        ref: Any = self.db.collection(USERS, uid, DRAFTS).document()
        ref.create(doc)
        draft_id: str = ref.id
        return draft_id

    def get_draft(self, uid: str, draft_id: str) -> dict[str, Any] | None:
        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))
        return ref.get().to_dict()

    def confirm_draft(self, uid: str, draft_id: str, post_id: str, now: datetime) -> None:
        """Mark the draft confirmed by ``post_id``, once; AlreadyClaimed if it already was."""
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))

        @firestore.transactional
        def confirm(transaction: firestore.Transaction) -> None:
            data = ref.get(transaction=transaction).to_dict() or {}
            if data.get("confirmed_post_id"):
                raise AlreadyClaimed(data)
            transaction.update(ref, {"confirmed_post_id": post_id, "confirmed_at": now})

        confirm(self.db.transaction())

    def release_draft(self, uid: str, draft_id: str, post_id: str) -> None:
        """Undo a confirmation whose publish never reached TikTok."""
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))
        data = ref.get().to_dict() or {}
        if data.get("confirmed_post_id") == post_id:
            ref.update({"confirmed_post_id": firestore.DELETE_FIELD})

    # Idempotency -----------------------------------------------------------------------------

    def claim_idempotency(self, doc_id: str, doc: dict[str, Any]) -> None:
        """Create the key's record; AlreadyClaimed with the first request's record if it exists."""
        from google.api_core import exceptions

        ref = self.db.collection(IDEMPOTENCY).document(doc_id)
        try:
            ref.create(doc)
        except exceptions.AlreadyExists:
            raise AlreadyClaimed(ref.get().to_dict() or {}) from None

    def finish_idempotency(self, doc_id: str, changes: dict[str, Any]) -> None:
        self.db.collection(IDEMPOTENCY).document(doc_id).update(changes)

    def release_idempotency(self, doc_id: str) -> None:
        self.db.collection(IDEMPOTENCY).document(doc_id).delete()
