"""Firestore access for following posts: observations merged into posts (webhook, poll, sweep),
the sweep's and the history's queries, and revoking an account everywhere.

- Posts still processing carry ``status_check_at``: when the sweep should next ask TikTok.
- What the store also needs lives in its own modules, inherited here: publish-id pointers
  (shared/store/pointers.py), webhook receipts (shared/store/receipts.py) and poll budgets
  (shared/store/budgets.py).
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from shared import errors
from shared.status.order import SWEPT, Observation, merge
from shared.store.accounts import ACCOUNTS, REVOKED
from shared.store.budgets import PollBudgets
from shared.store.documents import (
    PostChanges,
    PostDoc,
    to_firestore,
)
from shared.store.outbox import Outbox, account_change, post_change
from shared.store.pointers import Pointers
from shared.store.posts import FINAL_STATUSES, POSTS, finish_idempotency, post_path, posts_of
from shared.store.receipts import Receipts
from shared.store.users import USERS, LiveUsers

if TYPE_CHECKING:
    from google.cloud import firestore

log = logging.getLogger(__name__)

UPLOAD_ABANDONED = "upload_abandoned"  # fail_reason of an upload whose chunks stopped coming
_APPLY_ATTEMPTS = 20


class StatusStore(Pointers, Receipts, PollBudgets, LiveUsers):
    """Typed access to what following a post needs."""

    def __init__(
        self,
        db: firestore.Client,
        on_final: Callable[[str, str], None] | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        # Every status written here is an event, committed with it (shared/store/outbox.py).
        self.outbox = outbox or Outbox(db)
        # Called with (uid, post_id) once a post with staged media becomes final, whichever path
        # (webhook, poll, sweep) learnt it: its staged objects are deleted then (P17).
        self.on_final = on_final

    # Posts ---------------------------------------------------------------------------------

    def get_post(self, uid: str, post_id: str) -> PostDoc | None:
        doc = cast("PostDoc | None", self.db.document(post_path(uid, post_id)).get().to_dict())
        return doc

    def settle_stalled_init(self, uid: str, post_id: str, now: datetime) -> bool:
        """Mark a post still INITIALIZING as UNKNOWN (and close its idempotency key); False if
        it moved on meanwhile. Conditional on the update time read, like :meth:`apply`."""
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post_id))
        snapshot = ref.get()
        doc = cast("PostDoc | None", snapshot.to_dict())
        if doc is None or doc.get("status") != "INITIALIZING":
            return False
        changes: PostChanges = {
            "status": "UNKNOWN",
            "fail_reason": "init_outcome_unknown",
            "status_source": "sweep",
            "status_checked_at": now,
            "updated_at": now,
        }
        try:
            self._write(ref, changes, snapshot, uid, post_id, doc)
        except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
            return False
        key_id = doc.get("idempotency_id")
        if key_id:
            with contextlib.suppress(exceptions.NotFound):
                finish_idempotency(self.db, key_id, post_id)
        return True

    def apply(
        self,
        uid: str,
        post_id: str,
        seen: Observation,
        now: datetime,
        extra: PostChanges | None = None,
    ) -> tuple[PostDoc, PostChanges] | None:
        """Merge ``seen`` into the post atomically; (post before, changes), None if it is gone.

        ``extra`` (the sweep's next check time, the time of a poll) is written along with the
        merge, even when the observation itself changes nothing. Optimistic: the write carries
        the read's update time as a precondition and is redone on a conflict, so events for one
        post never wait on a lock (the emulator's pessimistic transactions stall under load).
        """
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post_id))
        for attempt in range(_APPLY_ATTEMPTS):
            snapshot = ref.get()
            doc = cast("PostDoc | None", snapshot.to_dict())
            if doc is None:
                return None
            changes = merge(doc, seen, now)
            if extra:
                changes.update(extra)
            if not changes:
                return doc, changes
            try:
                self._write(ref, changes, snapshot, uid, post_id, doc)
            except (exceptions.FailedPrecondition, exceptions.Aborted):
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 - jitter
                continue
            except exceptions.NotFound:
                return None
            self._after(uid, post_id, doc, changes)
            return doc, changes
        raise errors.Aborted(
            "the post kept changing while its status was updated", reason="post.contended"
        )

    def _write(
        self,
        ref: Any,
        changes: PostChanges,
        snapshot: Any,
        uid: str,
        post_id: str,
        doc: PostDoc,
        *,
        delete: tuple[str, ...] = (),
    ) -> None:
        """Write ``changes`` onto the version ``snapshot`` read (and delete the fields named in
        ``delete``), with the event of the status change they make (if any) in the same commit."""
        from google.cloud import firestore

        batch = self.db.batch()
        option = self.db.write_option(last_update_time=snapshot.update_time)
        fields = to_firestore(changes)
        fields.update(dict.fromkeys(delete, firestore.DELETE_FIELD))
        batch.update(ref, fields, option=option)
        self.outbox.commit(batch, [post_change(uid, post_id, doc, changes)])

    def _after(self, uid: str, post_id: str, doc: PostDoc, changes: PostChanges) -> None:
        if self.on_final is None or not doc.get("media_ids"):
            return
        if changes.get("status") in FINAL_STATUSES and doc.get("status") not in FINAL_STATUSES:
            try:
                self.on_final(uid, post_id)
            except Exception:  # The status stands; the bucket's lifecycle rule is the backstop.
                log.exception(
                    "deleting a final post's staged media failed", extra={"post_id": post_id}
                )

    def abandon_upload(
        self,
        uid: str,
        post_id: str,
        now: datetime,
        *,
        source: str,
        still: Callable[[PostDoc], bool],
    ) -> PostDoc | None:
        """Fail the post with ``upload_abandoned`` if ``still(post)`` holds when written; the post
        as written, or None when it is gone or no longer qualifies. The check and the write are
        one conditional write (update time precondition), so a last chunk completing meanwhile
        is never overruled. TikTok's upload URL is deleted with it: nothing will use it again.
        """
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post_id))
        for attempt in range(_APPLY_ATTEMPTS):
            snapshot = ref.get()
            doc = cast("PostDoc | None", snapshot.to_dict())
            if doc is None or not still(doc):
                return None
            changes: PostChanges = {
                "status": "FAILED",
                "fail_reason": UPLOAD_ABANDONED,
                "status_source": source,
                "chunk_claim_until": None,
                "updated_at": now,
            }
            try:
                self._write(ref, changes, snapshot, uid, post_id, doc, delete=("upload_url_enc",))
            except (exceptions.FailedPrecondition, exceptions.Aborted):
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 - jitter
                continue
            except exceptions.NotFound:
                return None
            doc.pop("upload_url_enc", None)
            return {**doc, **changes}
        raise errors.Aborted(
            "the post kept changing while its upload was abandoned", reason="post.contended"
        )

    def due_posts_query(self, now: datetime, limit: int) -> Any:
        """Posts still processing (or stuck initialising) whose sweep check is due, oldest first."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return (
            self.db.collection_group(POSTS)
            .where(filter=FieldFilter("status", "in", list(SWEPT)))
            .where(filter=FieldFilter("status_check_at", "<=", now))
            .order_by("status_check_at")
            .limit(limit)
        )

    def history_query(
        self,
        uid: str,
        limit: int,
        after: tuple[datetime, str] | None,
        *,
        status: str | None = None,
        open_id: str | None = None,
    ) -> Any:
        """The user's posts, newest first, ``limit`` of them, after a (created_at, id) cursor,
        optionally only those of one account and/or in one status (composite indexes declared
        in firestore.indexes.json for each combination)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        query: Any = self.db.collection(USERS, uid, POSTS)
        if open_id is not None:
            query = query.where(filter=FieldFilter("open_id", "==", open_id))
        if status is not None:
            query = query.where(filter=FieldFilter("status", "==", status))
        query = (
            query.order_by("created_at", direction="DESCENDING")
            .order_by("__name__", direction="DESCENDING")
            .limit(limit)
        )
        if after is not None:
            created_at, post_id = after
            ref = self.db.document(post_path(uid, post_id))
            query = query.start_after({"created_at": created_at, "__name__": ref})
        return query

    def due_posts(self, now: datetime, limit: int) -> list[tuple[str, PostDoc]]:
        """(post id, post) of :meth:`due_posts_query`'s posts."""
        return posts_of(self.due_posts_query(now, limit).stream())

    def history(
        self,
        uid: str,
        limit: int,
        after: tuple[datetime, str] | None,
        *,
        status: str | None = None,
        open_id: str | None = None,
    ) -> list[tuple[str, PostDoc]]:
        """(post id, post) of :meth:`history_query`'s posts."""
        query = self.history_query(uid, limit, after, status=status, open_id=open_id)
        return posts_of(query.stream())

    # Accounts ------------------------------------------------------------------------------

    def accounts_query(self, open_id: str) -> Any:
        """Every user's connection of TikTok account ``open_id`` (several users may share one)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return self.db.collection_group(ACCOUNTS).where(
            filter=FieldFilter("open_id", "==", open_id)
        )

    def revoke_everywhere(self, open_id: str, status_reason: str, now: datetime) -> list[str]:
        """Delete the tokens of every connection of ``open_id`` and mark it revoked; the uids.

        Each write is conditional on the version read and carries the event of the change (none
        when it was revoked already), so a replayed webhook announces nothing twice."""
        from google.api_core import exceptions
        from google.cloud import firestore

        changes = {
            "access_token_enc": firestore.DELETE_FIELD,
            "refresh_token_enc": firestore.DELETE_FIELD,
            "status": REVOKED,
            "status_reason": status_reason,
            "updated_at": now,
        }
        uids = []
        for found in self.accounts_query(open_id).stream():
            snapshot = found
            for attempt in range(_APPLY_ATTEMPTS):
                data = snapshot.to_dict()
                if data is None:
                    break  # disconnected meanwhile: nothing left to revoke
                batch = self.db.batch()
                option = self.db.write_option(last_update_time=snapshot.update_time)
                batch.update(snapshot.reference, changes, option=option)
                event = account_change(str(data.get("uid")), open_id, data.get("status"), changes)
                try:
                    self.outbox.commit(batch, [event])
                except (exceptions.FailedPrecondition, exceptions.Aborted):
                    time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 - jitter
                    snapshot = snapshot.reference.get()
                    continue
                except exceptions.NotFound:
                    break
                uids.append(str(data.get("uid")))
                break
        return uids
