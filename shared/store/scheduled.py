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
  the last minute, shared by every instance (TikTok allows 6 a minute per token), whoever sends
  them: the holder of the account's lease in the due run reserves the inits it needs for the
  account's due posts in one write conditioned on the version it read (:class:`InitBudget`), and
  afterwards writes the times its inits were really sent, so the window TikTok counts and this one
  agree; the user's own posts are counted in it too (:meth:`ScheduleStore.record_init`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from shared.store.accounts import account_path
from shared.store.budgets import POLL_BUDGETS
from shared.store.documents import BudgetDoc, PostChanges, PostDoc, to_firestore
from shared.store.outbox import Event, Outbox, post_change
from shared.store.posts import POSTS, SCHEDULED, post_path
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

INIT_LIMIT = 6  # inits per minute per access token (docs/tiktok-api.md §3.2, §4.3)
INIT_WINDOW = 60.0
# Later than any post's time: "due by then" is every scheduled post (the due query's own index).
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


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

    def change(
        self,
        uid: str,
        post: Versioned,
        changes: PostChanges,
        *,
        deferred: list[Event] | None = None,
    ) -> Versioned | None:
        """Write ``changes`` if the post is still as read in ``post``: the post as written (its
        new version); None when it changed (or is gone) meanwhile: the caller re-reads and
        decides again. ``deferred``: see :meth:`Outbox.commit`."""
        from google.api_core import exceptions

        ref = self.db.document(post_path(uid, post.post_id))
        batch = self.db.batch()
        option = self.db.write_option(last_update_time=post.version)
        batch.update(ref, to_firestore(changes), option=option)
        event = post_change(uid, post.post_id, post.doc, changes)
        try:
            results = self.outbox.commit(batch, [event], deferred=deferred)
        except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
            return None
        return Versioned(post.post_id, {**post.doc, **changes}, results[0].update_time)

    def account_state(
        self, uid: str, open_id: str, now: datetime, window: float = INIT_WINDOW
    ) -> AccountState:
        """The user, the account and its init budget, in one read."""
        user = self.db.collection(USERS).document(uid)
        account = self.db.document(account_path(uid, open_id))
        budget = _budget_ref(self.db, uid, open_id)
        found = {s.reference.path: s for s in self.db.get_all([user, account, budget])}
        user_doc = found[user.path].to_dict()
        return AccountState(
            user_live=user_doc is not None and "deleting_since" not in user_doc,
            account=found[account.path].to_dict(),
            budget=InitBudget.from_snapshot(self.db, budget, found[budget.path], window),
        )

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

    def account_scheduled(self, uid: str, open_id: str, limit: int) -> list[Versioned]:
        """Up to ``limit`` of one account's ``SCHEDULED`` posts, due or not, soonest first."""
        return self.due_posts(uid, open_id, END_OF_TIME, limit)

    def record_init(
        self, uid: str, open_id: str, now: datetime, window: float = INIT_WINDOW
    ) -> bool:
        """Count an init sent outside the due run (the user posting now) in the account's
        window, never refusing it: TikTok's limit is per token, whoever spends it, so the due
        run then waits instead of meeting TikTok's 429. Best effort (False when Firestore did not
        take it): the publish it counts must not fail for it, and the 429 is the backstop."""
        from google.api_core import exceptions
        from google.cloud import firestore

        ref = _budget_ref(self.db, uid, open_id)
        stamp = now.timestamp()
        horizon = stamp - window

        @firestore.transactional
        def put(transaction: firestore.Transaction) -> None:
            data = cast("BudgetDoc | None", ref.get(transaction=transaction).to_dict())
            calls = sorted(t for t in (data["calls"] if data else []) if t > horizon)
            calls.append(stamp)
            budget: BudgetDoc = {"calls": calls, "expire_at": now + timedelta(seconds=window * 2)}
            transaction.set(ref, to_firestore(budget))

        try:
            put(self.db.transaction())
        except (exceptions.GoogleAPIError, ValueError):
            return False
        return True

    def fill_init_window(
        self, uid: str, open_id: str, now: datetime, limit: int = INIT_LIMIT
    ) -> None:
        """TikTok said the token's inits are spent (its 429): count the window as full from now,
        so no instance sends another init with this token for a minute."""
        ref = _budget_ref(self.db, uid, open_id)
        stamp = now.timestamp()
        budget: BudgetDoc = {
            "calls": [stamp] * limit,
            "expire_at": now + timedelta(seconds=INIT_WINDOW * 2),
        }
        ref.set(to_firestore(budget))


def _budget_ref(db: firestore.Client, uid: str, open_id: str) -> Any:
    return db.collection(USERS, uid, POLL_BUDGETS).document(f"{open_id}.init")


@dataclass
class AccountState:
    """What one account's run reads once: whether the user is live (not being deleted), the
    account's document (None: disconnected) and its init budget."""

    user_live: bool
    account: dict[str, Any] | None
    budget: InitBudget


class InitBudget:
    """One holder's use of an account's init window (``{open_id}.init``: ``calls``, the times of
    the inits of the last minute). :meth:`take` reserves up to the inits wanted in one write
    conditioned on the version read (another writer meanwhile: read again), so every instance
    counts the same window without a transaction; :meth:`spend` notes that one reserved init was
    sent, and when; :meth:`settle` writes the reserved times replaced by the real ones and the
    unused reservations freed (conditioned too: a write by anyone else since wins).

    A reservation is counted from the moment it is taken, the real send a little later: until
    :meth:`settle` the window is at most as wide as TikTok's (a crash before it leaves the window
    ending up to one account's run early)."""

    def __init__(
        self,
        db: firestore.Client,
        ref: Any,
        calls: list[float],
        version: Any,
        window: float = INIT_WINDOW,
    ) -> None:
        self.db, self.ref, self.window = db, ref, window
        self.calls = calls  # as written at ``version`` (None: no document)
        self.version = version
        self.reserved: list[float] = []  # reserved here and not spent yet
        self.spent: list[tuple[float, float]] = []  # (reserved, sent) of each init sent

    @classmethod
    def from_snapshot(
        cls, db: firestore.Client, ref: Any, snapshot: Any, window: float = INIT_WINDOW
    ) -> InitBudget:
        data = snapshot.to_dict() if snapshot.exists else None
        calls = [float(t) for t in (data or {}).get("calls", [])]
        return cls(db, ref, calls, snapshot.update_time if data is not None else None, window)

    @property
    def available(self) -> int:
        return len(self.reserved)

    def take(self, now: datetime, wanted: int, limit: int = INIT_LIMIT) -> float:
        """Reserve up to ``wanted`` inits: 0.0 when at least one was reserved, else the seconds
        until the oldest init leaves the window (1.0 after losing three races for the document)."""
        from google.api_core import exceptions

        stamp = now.timestamp()
        horizon = stamp - self.window
        for attempt in range(3):
            if attempt:
                self._reread()
            calls = sorted(t for t in self._effective() if t > horizon)
            free = limit - len(calls)
            if free <= 0:
                return float(max(calls[-limit] - horizon, 0.001))
            granted = [stamp] * min(free, wanted)
            try:
                self._write(calls + granted, now)
            except (
                exceptions.FailedPrecondition,
                exceptions.Aborted,
                exceptions.NotFound,
                exceptions.AlreadyExists,
                exceptions.Conflict,
            ):
                continue
            self.reserved, self.spent = granted, []
            return 0.0
        return 1.0

    def spend(self, sent: datetime) -> None:
        """One reserved init was sent at ``sent`` (TikTok counts it from then)."""
        self.spent.append((self.reserved.pop(0), sent.timestamp()))

    def settle(self, now: datetime) -> None:
        """Write the real times of the inits sent and free the reservations not used; best
        effort (a failure leaves the reserved times, a minute at most)."""
        if not self.reserved and all(reserved == sent for reserved, sent in self.spent):
            return
        horizon = now.timestamp() - self.window
        try:
            self._write(sorted(t for t in self._effective() if t > horizon), now)
        except Exception:  # another writer won, or Firestore failed: the reservations expire
            return
        self.reserved, self.spent = [], []

    def _effective(self) -> list[float]:
        """The document's calls with this holder's unused reservations freed and its spent ones
        at the times they were really sent."""
        calls = list(self.calls)
        for reserved in self.reserved:
            if reserved in calls:
                calls.remove(reserved)
        for reserved, sent in self.spent:
            if reserved in calls:
                calls.remove(reserved)
            calls.append(sent)
        return calls

    def _write(self, calls: list[float], now: datetime) -> None:
        doc = {"calls": calls, "expire_at": now + timedelta(seconds=self.window * 2)}
        if self.version is None:
            result = self.ref.create(doc)
        else:
            option = self.db.write_option(last_update_time=self.version)
            result = self.ref.update(doc, option=option)
        self.calls, self.version = calls, result.update_time

    def _reread(self) -> None:
        snapshot = self.ref.get()
        data = snapshot.to_dict() if snapshot.exists else None
        self.calls = [float(t) for t in (data or {}).get("calls", [])]
        self.version = snapshot.update_time if data is not None else None
