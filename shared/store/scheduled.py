"""Firestore access for scheduled posts: the due queries, status changes, the init budget.

- A scheduled post is an ordinary post (``users/{uid}/posts/{post_id}``, shared/store/posts.py)
  with ``status`` ``SCHEDULED``, ``schedule_at`` (the instant, UTC) and ``schedule_tz`` (the IANA
  zone it is shown in). It is due once ``schedule_at`` has passed.
- Every change of a scheduled post (claimed for sending, cancelled, failed when due, edited) is
  one write conditioned on the update time the change was decided from
  (:meth:`ScheduleStore.change`): of an edit, a cancel and a claim racing for one post, exactly
  one is written and the others see the post changed. No contended transaction (the emulator
  stalls them), the same guarantee on the emulator and on Firestore. A status change commits
  its event with it (shared/store/outbox.py), like every other status write.
- ``users/{uid}/poll_budgets/{open_id}.init``: the publish inits sent with this account's token in
  the last minute, shared by every instance (TikTok allows 6 a minute per token).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from shared.store.budgets import POLL_BUDGETS
from shared.store.documents import BudgetDoc, PostChanges, PostDoc, to_firestore
from shared.store.outbox import Outbox, post_change
from shared.store.posts import POSTS, SCHEDULED, post_path
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

INIT_LIMIT = 6  # inits per minute per access token (docs/tiktok-api.md §3.2, §4.3)
INIT_WINDOW = 60.0


@dataclass(frozen=True)
class Versioned:
    """A post as read, with the update time a conditional change is made against."""

    post_id: str
    doc: PostDoc
    version: Any


class ScheduleStore:
    """Typed access to what scheduling posts needs."""

    def __init__(self, db: firestore.Client, outbox: Outbox | None = None) -> None:
        self.db = db
        self.outbox = outbox or Outbox(db)

    def read(self, uid: str, post_id: str) -> Versioned | None:
        snapshot = self.db.document(post_path(uid, post_id)).get()
        doc = cast("PostDoc | None", snapshot.to_dict())
        return Versioned(post_id, doc, snapshot.update_time) if doc is not None else None

    def change(self, uid: str, post: Versioned, changes: PostChanges) -> bool:
        """Write ``changes`` if the post is still as read in ``post``; False when it changed (or
        is gone) meanwhile: the caller re-reads and decides again."""
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post.post_id))
        batch = self.db.batch()
        option = self.db.write_option(last_update_time=post.version)
        batch.update(ref, to_firestore(changes), option=option)
        try:
            self.outbox.commit(batch, [post_change(uid, post.post_id, post.doc, changes)])
        except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
            return False
        return True

    def due_query(self, now: datetime) -> Any:
        """Every user's posts due by ``now``, oldest time first (index: firestore.indexes.json)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return (
            self.db.collection_group(POSTS)
            .where(filter=FieldFilter("status", "==", SCHEDULED))
            .where(filter=FieldFilter("schedule_at", "<=", now))
            .order_by("schedule_at")
            .order_by("__name__")
        )

    def due_accounts(self, now: datetime, page_size: int) -> Iterator[list[tuple[str, str]]]:
        """Pages of (uid, open_id) of accounts with posts due by ``now``, each account once, in
        order of its oldest due post."""
        # The cursor of the next page needs the ordered field too.
        query = self.due_query(now).select(["uid", "open_id", "schedule_at"])
        seen: set[tuple[str, str]] = set()
        cursor = None
        while True:
            page_query = query.limit(page_size)
            if cursor is not None:
                page_query = page_query.start_after(cursor)
            page = list(page_query.stream())
            fresh = []
            for snapshot in page:
                data = snapshot.to_dict() or {}
                account = (str(data.get("uid")), str(data.get("open_id")))
                if account not in seen:
                    seen.add(account)
                    fresh.append(account)
            if fresh:
                yield fresh
            if len(page) < page_size:
                return
            cursor = page[-1]

    def account_due_query(self, uid: str, open_id: str, now: datetime) -> Any:
        """One account's posts due by ``now``, in the order they are sent: time, then id."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        return (
            self.db.collection(USERS, uid, POSTS)
            .where(filter=FieldFilter("status", "==", SCHEDULED))
            .where(filter=FieldFilter("open_id", "==", open_id))
            .where(filter=FieldFilter("schedule_at", "<=", now))
            .order_by("schedule_at")
            .order_by("__name__")
        )

    def due_posts(self, uid: str, open_id: str, now: datetime, limit: int) -> list[Versioned]:
        query = self.account_due_query(uid, open_id, now).limit(limit)
        # A query yields only documents that exist.
        return [
            Versioned(s.id, cast("PostDoc", s.to_dict()), s.update_time)
            for s in query.stream()
            if s.exists
        ]

    def take_init(
        self,
        uid: str,
        open_id: str,
        now: datetime,
        limit: int = INIT_LIMIT,
        window: float = INIT_WINDOW,
    ) -> float:
        """Spend one init of the account's sliding one-minute window: 0.0 when granted, else the
        seconds until the oldest init leaves the window. A transaction keeps the count right
        across instances; under contention the answer is a short wait, never an error."""
        from google.api_core import exceptions
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, POLL_BUDGETS).document(f"{open_id}.init")
        stamp = now.timestamp()
        horizon = stamp - window

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> float:
            data = cast("BudgetDoc | None", ref.get(transaction=transaction).to_dict())
            calls = sorted(t for t in (data["calls"] if data else []) if t > horizon)
            if len(calls) >= limit:
                return float(max(calls[-limit] - horizon, 0.001))
            calls.append(stamp)
            budget: BudgetDoc = {"calls": calls, "expire_at": now + timedelta(seconds=window * 2)}
            transaction.set(ref, to_firestore(budget))
            return 0.0

        try:
            wait: float = take(self.db.transaction())
        except (exceptions.Aborted, exceptions.DeadlineExceeded, ValueError):
            return 1.0
        return wait

    def fill_init_window(
        self, uid: str, open_id: str, now: datetime, limit: int = INIT_LIMIT
    ) -> None:
        """TikTok said the token's inits are spent (its 429): count the window as full from now,
        so no instance sends another init with this token for a minute."""
        ref = self.db.collection(USERS, uid, POLL_BUDGETS).document(f"{open_id}.init")
        stamp = now.timestamp()
        budget: BudgetDoc = {
            "calls": [stamp] * limit,
            "expire_at": now + timedelta(seconds=INIT_WINDOW * 2),
        }
        ref.set(to_firestore(budget))
