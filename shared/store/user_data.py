"""Everything stored about one user, found and deleted as a whole.

A user's data lives under ``users/{uid}`` (the profile, connected accounts and the collections
under each, posts, drafts, media, sessions and any later subcollection) or in a top-level
collection whose documents name the user (:data:`RELATED`). Export and deletion walk exactly
that, so a new subcollection is exported and deleted without a change here.

Documents come out as ``(id, data)`` records, a page at a time, so a user with tens of thousands
of posts costs a page of memory, not the whole history; no caller sees a Firestore type.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.store.accounts import ACCOUNTS, AccountStore
from shared.store.analytics import ANALYTICS
from shared.store.outbox import DELETED, OUTBOX, Outbox
from shared.store.query import where
from shared.store.sessions import SessionStore
from shared.store.users import USERS, LiveUsers

if TYPE_CHECKING:
    from google.cloud import firestore

PAGE = 500  # documents per page read and per batched delete (Firestore's batch limit)
NESTED_UNDER_ACCOUNTS = (ANALYTICS,)

Record = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Related:
    """A top-level collection whose documents belong to a user, and how to find theirs."""

    collection: str
    query: Callable[[firestore.Client, str], Any]
    order: tuple[str, ...] = ()  # Range-filtered fields must lead the ordering.


def _by_uid(collection: str) -> Related:
    return Related(collection, lambda db, uid: where(db.collection(collection), "uid", "==", uid))


def _leases(db: firestore.Client, uid: str) -> Any:
    # A lease's subject is the path of what it guards, e.g. users/{uid}/accounts/{open_id}.
    prefix = f"{USERS}/{uid}/"
    at_least = where(db.collection("leases"), "subject", ">=", prefix)
    return where(at_least, "subject", "<", prefix + "\uf8ff")


def _events(db: firestore.Client, uid: str) -> Any:
    # The user's status events; those announcing the deletion itself are not the user's data to
    # delete but the operator's notice of it, kept until published (shared/store/outbox.py).
    return where(where(db.collection(OUTBOX), "uid", "==", uid), "purge_with_user", "==", True)


RELATED = (
    _by_uid("oauth_states"),
    _by_uid("idempotency"),
    _by_uid("publish_ids"),
    Related("leases", _leases, order=("subject",)),
    Related(OUTBOX, _events),
)


class Budget:
    """A deadline on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline


def paged(query: Any, order: tuple[str, ...] = ()) -> Iterator[Any]:
    """Every document snapshot of ``query``, a page at a time (ordered by ``order``, then id)."""
    last = None
    for field in order:
        query = query.order_by(field)
    while True:
        page = query.order_by("__name__").limit(PAGE)
        if last is not None:
            page = page.start_after(last)
        docs = list(page.stream())
        yield from docs
        if len(docs) < PAGE:
            return
        last = docs[-1]


def _section(query: Any, order: tuple[str, ...] = ()) -> Iterator[Record]:
    for snapshot in paged(query, order):
        yield snapshot.id, snapshot.to_dict() or {}


class UserData(LiveUsers):
    """The whole of each user's stored data: its sections for export, its deletion, and the
    tombstone a deletion leaves at ``users/{uid}`` (shared/users/deletion.py says why)."""

    def __init__(self, db: firestore.Client, outbox: Outbox | None = None) -> None:
        self.db = db
        self.outbox = outbox or Outbox(db)

    # The tombstone ---------------------------------------------------------------------------

    def mark_deleting(self, uid: str, now: datetime, sweep_after: datetime) -> None:
        """Replace the user's document with a tombstone (uid and times only: the profile goes
        now), due for the scheduled job at once and for its final sweep at ``sweep_after``."""
        self.db.collection(USERS).document(uid).set(
            {
                "uid": uid,
                "deleting_since": now,
                "deletion_sweep_after": sweep_after,
                "deletion_due_at": now,
            }
        )

    def sweep_after(self, uid: str) -> datetime:
        """When the tombstone of ``uid`` may go (KeyError when there is none)."""
        tomb = self.db.collection(USERS).document(uid).get().to_dict() or {}
        when: datetime = tomb["deletion_sweep_after"]
        return when

    def due_deletions(self, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        """Up to ``limit`` (uid, sweep-after time) of deletions due, the oldest first."""
        due = (
            where(self.db.collection(USERS), "deletion_due_at", "<=", now)
            .order_by("deletion_due_at")
            .limit(limit)
        )
        return [(s.id, (s.to_dict() or {})["deletion_sweep_after"]) for s in due.stream()]

    def set_deletion_due(self, uid: str, at: datetime) -> None:
        self.db.collection(USERS).document(uid).update({"deletion_due_at": at})

    def remove_tombstone(self, uid: str) -> None:
        self.db.collection(USERS).document(uid).delete()

    def revoke_sessions(self, uid: str) -> int:
        """End every session of ``uid`` at once; how many there were."""
        return SessionStore(self.db).revoke_all(uid)

    # Everything else -------------------------------------------------------------------------

    def sections(self, uid: str) -> Iterator[tuple[str, Callable[[], Iterator[Record]]]]:
        """(name, records) for every collection that holds the user's data; each callable reads
        its collection afresh, a page at a time, so a caller may read a section twice."""
        db = self.db
        user_ref = db.collection(USERS).document(uid)
        yield "user", functools.partial(self._existing, user_ref)
        for sub in sorted(user_ref.collections(), key=lambda c: c.id):
            yield sub.id, functools.partial(_section, sub)
        # Collections under each account (its daily analytics), one section per collection name.
        for name in NESTED_UNDER_ACCOUNTS:
            yield name, functools.partial(self._under_accounts, uid, name)
        for related in RELATED:
            yield (
                related.collection,
                functools.partial(_section, related.query(db, uid), related.order),
            )

    def _under_accounts(self, uid: str, name: str) -> Iterator[Record]:
        """Every document of collection ``name`` under each of the user's accounts (an account
        already gone still has its documents listed, so nothing stored is missed)."""
        for account in self.db.collection(USERS, uid, ACCOUNTS).list_documents(page_size=PAGE):
            yield from _section(account.collection(name))

    @staticmethod
    def _existing(ref: Any) -> Iterator[Record]:
        snapshot = ref.get()
        if snapshot.exists:
            yield snapshot.id, snapshot.to_dict() or {}

    def delete(self, uid: str, budget: Budget) -> tuple[int, bool]:
        """Delete every document of the user but ``users/{uid}`` itself, a batch at a time, until
        done or ``budget`` is spent; (documents deleted, finished).

        The connections go first, each with its ``deleted`` event in the same commit (a later
        sweep finds none left, so each is announced once); then the user's other events still in
        the outbox (:data:`RELATED`), so nothing about the user is published after the deletion
        but the deletion itself."""
        db = self.db
        deleted = 0
        accounts = AccountStore(db, self.outbox)
        for ref in db.collection(USERS, uid, ACCOUNTS).list_documents(page_size=PAGE):
            if accounts.delete(uid, ref.id, status=DELETED):
                deleted += 1
        for related in RELATED:
            query = paged(related.query(db, uid), related.order)
            count, finished = self._delete_pages(query, budget)
            deleted += count
            if not finished:
                return deleted, False
        for sub in db.collection(USERS).document(uid).collections():
            count, finished = self._delete_pages(paged(sub), budget)
            deleted += count
            if not finished:
                return deleted, False
            deleted += db.recursive_delete(sub)  # nested deeper: each account's analytics
        return deleted, True

    def _delete_pages(self, snapshots: Iterable[Any], budget: Budget) -> tuple[int, bool]:
        count = 0
        batch = self.db.batch()
        pending = 0
        for snapshot in snapshots:
            batch.delete(snapshot.reference)
            pending += 1
            if pending == PAGE:
                batch.commit()
                count += pending
                batch, pending = self.db.batch(), 0
                if budget.spent():
                    return count, False
        if pending:
            batch.commit()
            count += pending
        return count, True
