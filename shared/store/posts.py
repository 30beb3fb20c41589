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
from typing import TYPE_CHECKING, Any, cast

from shared.store.documents import (
    DraftDoc,
    IdempotencyChanges,
    IdempotencyDoc,
    PostChanges,
    PostDoc,
    to_firestore,
)
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
    """A claim found the document already taken (a chunk claim: the post changed since read)."""

    def __init__(self) -> None:
        super().__init__("already claimed")


class DraftConfirmed(AlreadyClaimed):
    """The draft was confirmed already, by post ``post_id``."""

    def __init__(self, post_id: str) -> None:
        super().__init__()
        self.post_id = post_id


class KeyClaimed(AlreadyClaimed):
    """The Idempotency-Key has a record already: ``first``, the first request's (None when that
    request released it between this claim and the read)."""

    def __init__(self, first: IdempotencyDoc | None) -> None:
        super().__init__()
        self.first = first


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

    def create_post(self, uid: str, post_id: str, doc: PostDoc) -> None:
        """Create the post, and the event of its first status in the same commit."""
        batch = self.db.batch()
        batch.create(self.db.document(post_path(uid, post_id)), to_firestore(doc))
        self.outbox.commit(batch, [post_change(uid, post_id, None, doc)])

    def get_post(self, uid: str, post_id: str) -> PostDoc | None:
        doc = cast("PostDoc | None", self.db.document(post_path(uid, post_id)).get().to_dict())
        return doc

    def update_post(
        self,
        uid: str,
        post_id: str,
        changes: PostChanges,
        *,
        known: tuple[PostDoc, Any] | None = None,
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
                ref.update(to_firestore(changes))
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
                read = cast("PostDoc | None", snapshot.to_dict())
                if read is None:
                    raise gone
                before, version = read, snapshot.update_time
            batch = self.db.batch()
            option = self.db.write_option(last_update_time=version)
            batch.update(ref, to_firestore(changes), option=option)
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
            publish_id
            for _, doc in posts_of(query.stream())
            if doc.get("open_id") == open_id and (publish_id := doc.get("publish_id"))
        ]

    def delete_post(self, uid: str, post_id: str) -> None:
        self.db.document(post_path(uid, post_id)).delete()

    def get_post_versioned(self, uid: str, post_id: str) -> tuple[PostDoc, Any] | None:
        """The post and the update time it was read at (for :meth:`claim_chunk`)."""
        snapshot = self.db.document(post_path(uid, post_id)).get()
        data = cast("PostDoc | None", snapshot.to_dict())
        return (data, snapshot.update_time) if data is not None else None

    def claim_chunk(self, uid: str, post_id: str, read_at: Any, until: datetime) -> None:
        """Mark the post's next chunk as being relayed, if the post is still as read at ``read_at``.

        A write conditioned on the update time (one round trip, no transaction: the emulator
        stalls contended transactions) makes two requests for one upload exclusive: the second
        finds the document changed and gets AlreadyClaimed (the caller re-reads the post).
        """
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post_id))
        changes: PostChanges = {"chunk_claim_until": until}
        try:
            ref.update(
                to_firestore(changes),
                option=self.db.write_option(last_update_time=read_at),
            )
        except (exceptions.FailedPrecondition, exceptions.NotFound, exceptions.Aborted):
            raise AlreadyClaimed() from None

    # Drafts ----------------------------------------------------------------------------------

    def create_draft(self, uid: str, doc: DraftDoc) -> str:
        ref: Any = self.db.collection(USERS, uid, DRAFTS).document()
        ref.create(to_firestore(doc))
        draft_id: str = ref.id
        return draft_id

    def get_draft(self, uid: str, draft_id: str) -> DraftDoc | None:
        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))
        doc = cast("DraftDoc | None", ref.get().to_dict())
        return doc

    def confirm_draft(self, uid: str, draft_id: str, post_id: str, now: datetime) -> None:
        """Mark the draft confirmed by ``post_id``, once; DraftConfirmed if it already was."""
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))

        @firestore.transactional
        def confirm(transaction: firestore.Transaction) -> None:
            data = cast("DraftDoc | None", ref.get(transaction=transaction).to_dict())
            confirmed = data.get("confirmed_post_id") if data is not None else None
            if confirmed:
                raise DraftConfirmed(confirmed)
            transaction.update(ref, {"confirmed_post_id": post_id, "confirmed_at": now})

        confirm(self.db.transaction())

    def release_draft(self, uid: str, draft_id: str, post_id: str) -> None:
        """Undo a confirmation whose publish never reached TikTok."""
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, DRAFTS).document(checked_id(draft_id, "draft"))
        data = cast("DraftDoc | None", ref.get().to_dict())
        if data is not None and data.get("confirmed_post_id") == post_id:
            ref.update({"confirmed_post_id": firestore.DELETE_FIELD})

    # Idempotency -----------------------------------------------------------------------------

    def claim_idempotency(self, doc_id: str, doc: IdempotencyDoc) -> None:
        """Create the key's record; KeyClaimed with the first request's record if it exists."""
        from google.api_core import exceptions

        ref = self.db.collection(IDEMPOTENCY).document(doc_id)
        try:
            ref.create(to_firestore(doc))
        except exceptions.AlreadyExists:
            first = cast("IdempotencyDoc | None", ref.get().to_dict())
            raise KeyClaimed(first) from None

    def finish_idempotency(self, doc_id: str, post_id: str) -> None:
        """The key's request is done: its answer is post ``post_id``."""
        finish_idempotency(self.db, doc_id, post_id)

    def release_idempotency(self, doc_id: str) -> None:
        self.db.collection(IDEMPOTENCY).document(doc_id).delete()


def finish_idempotency(db: firestore.Client, doc_id: str, post_id: str) -> None:
    """Close an idempotency record with the post it answers (NotFound if it is gone)."""
    changes: IdempotencyChanges = {"state": "done", "post_id": post_id}
    db.collection(IDEMPOTENCY).document(doc_id).update(to_firestore(changes))


def posts_of(snapshots: Iterable[Any]) -> list[tuple[str, PostDoc]]:
    """(post id, post) of a query's snapshots (a query yields only documents that exist)."""
    found = []
    for snapshot in snapshots:
        doc = cast("PostDoc | None", snapshot.to_dict())
        if doc is not None:
            found.append((str(snapshot.id), doc))
    return found
