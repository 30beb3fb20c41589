"""Account deletion that wins every race with requests in flight, within one request's time.

The race: a request that started before ``DELETE /api/me`` (a publish waiting on TikTok, a chunk
streaming, a poll) may write after deletion has swept the user's documents, recreating a post, a
publish-id pointer or an upload URL for a user who is gone. The mechanism, chosen as the cheapest
one that is sound without a transaction on every write:

1. **Tombstone first.** Deletion begins by replacing ``users/{uid}`` with a tombstone holding only
   the uid and times (:func:`mark_deleting`). From then on :func:`user_is_live` is false for the
   user, as it is once ``users/{uid}`` is gone altogether.
2. **Write, then re-check.** A writer that creates data under a user (a publish: its post before
   TikTok's init, its pointer and upload URL after it) writes first and then reads
   ``users/{uid}``. Firestore reads are strongly consistent, so either the re-check sees the
   tombstone (the writer removes what it wrote, cancels at TikTok what it initialised, and answers
   404 ``user.deleted``), or the write came before the tombstone and so before deletion's sweep,
   which then finds and deletes it. No write is missed by both. One read per publish step; no
   transaction, no lock on the user document.
3. **A final sweep after the longest request.** A writer may die between its write and its
   re-check, and some writers (a draft, a poll budget, a lease) do not re-check at all. The
   tombstone therefore stays until :data:`IN_FLIGHT_BOUND` (the longest HTTP function timeout plus
   a margin) has passed, and the scheduled job (:func:`finish_deletions`) then sweeps everything
   of the user once more and removes the tombstone: by then no request that could write for the
   user is still running, and no new one can start (a deleted user's sessions are revoked).

The same tombstone carries deletion past Firebase Hosting's 60-second request limit: the request
does the urgent part (tombstone, cancelling unfinished publishes at TikTok, revoking every
connection, deleting the sign-in) and deletes documents a page at a time until
:data:`REQUEST_BUDGET` is spent; the scheduled job finishes the rest (``deletion_due_at`` is set to
"now" when work is left). The data is unreachable at once either way: the tombstone makes every
check refuse, and the documents left are read by no route.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.store.users import USERS
from shared.users.data_rights import RELATED, _paged, _where

if TYPE_CHECKING:
    from google.cloud import firestore

    from shared.crypto.vault import Vault
    from shared.store.accounts import AccountStore
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

# The longest HTTP function timeout (300 s: accounts and publish_init, deploy/table.py) plus a
# margin for clock skew: after this, no request that began before the tombstone is still running.
IN_FLIGHT_BOUND = timedelta(minutes=6)
REQUEST_BUDGET = 30.0  # seconds of document deletion inside DELETE /api/me (Hosting allows 60)
JOB_BUDGET = 240.0  # seconds per scheduled run (the function's timeout is 300)
PAGE = 500  # documents per batched delete (Firestore's batch limit)
DUE_LIMIT = 50


class Budget:
    """A deadline on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline


def mark_deleting(db: firestore.Client, uid: str, now: datetime) -> None:
    """Replace the user's document with a tombstone (uid and times only: the profile goes now)."""
    db.collection(USERS).document(uid).set(
        {
            "uid": uid,
            "deleting_since": now,
            "deletion_sweep_after": now + IN_FLIGHT_BOUND,
            "deletion_due_at": now,
        }
    )


def user_is_live(db: firestore.Client, uid: str) -> bool:
    """The user exists and is not being deleted."""
    data = db.collection(USERS).document(uid).get().to_dict()
    return data is not None and "deleting_since" not in data


def user_deleted() -> errors.NotFound:
    return errors.NotFound(
        "this account was deleted while the request was running", reason="user.deleted"
    )


def delete_pages(
    db: firestore.Client, snapshots: Iterable[Any], budget: Budget
) -> tuple[int, bool]:
    """Delete ``snapshots`` in batches until done or ``budget`` is spent; (count, finished)."""
    count = 0
    batch = db.batch()
    pending = 0
    for snapshot in snapshots:
        batch.delete(snapshot.reference)
        pending += 1
        if pending == PAGE:
            batch.commit()
            count += pending
            batch, pending = db.batch(), 0
            if budget.spent():
                return count, False
    if pending:
        batch.commit()
        count += pending
    return count, True


def finish_deletions(
    db: firestore.Client,
    accounts: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    now: datetime,
    budget_seconds: float = JOB_BUDGET,
) -> int:
    """The scheduled part: continue every deletion that is due; how many tombstones it removed."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    budget = Budget(budget_seconds)
    removed = 0
    due = (
        db.collection(USERS)
        .where(filter=FieldFilter("deletion_due_at", "<=", now))
        .order_by("deletion_due_at")
        .limit(DUE_LIMIT)
    )
    for snapshot in due.stream():
        if budget.spent():
            break
        uid, tomb = snapshot.id, snapshot.to_dict() or {}
        try:
            stop_at_tiktok(db, accounts, vault, tiktok, uid=uid, now=now)  # a connect slipped in
        except errors.AppError as exc:  # KMS down: this user waits for the next run
            log.warning("deletion postponed", extra={"uid": uid, "reason": exc.reason})
            continue
        _, finished = delete_documents(db, accounts, uid, budget)
        ref = db.collection(USERS).document(uid)
        if finished and tomb["deletion_sweep_after"] <= now:
            ref.delete()
            removed += 1
        else:
            next_at = now if not finished else tomb["deletion_sweep_after"]
            ref.update({"deletion_due_at": next_at})
    log.info("deletions continued", extra={"removed": removed})
    return removed


def stop_at_tiktok(
    db: firestore.Client,
    accounts: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    now: datetime,
) -> tuple[tuple[tuple[str, str], ...], int]:
    """Cancel each connection's unfinished publishes at TikTok, then revoke it; ((open_id, what
    became of it at TikTok) per account, publishes cancelled). Cancelling comes first: a revoked
    token can cancel nothing."""
    from shared.accounts.service import revoke_at_tiktok

    outcomes = []
    cancelled = 0
    for account in accounts.list(uid):
        cancelled += _cancel_unfinished(db, vault, tiktok, account)
        outcomes.append((account.open_id, revoke_at_tiktok(vault, tiktok, account)))
    return tuple(outcomes), cancelled


def _cancel_unfinished(
    db: firestore.Client, vault: Vault, tiktok: TikTokClient, account: Any
) -> int:
    from shared import errors
    from shared.crypto.vault import field_context
    from shared.status.order import POLLABLE

    posts = _where(db.collection(USERS, account.uid, "posts"), "status", "in", list(POLLABLE))
    publish_ids = [
        str(doc["publish_id"])
        for doc in (s.to_dict() or {} for s in posts.stream())
        if doc.get("open_id") == account.open_id and doc.get("publish_id")
    ]
    if not publish_ids:
        return 0
    try:
        token = vault.decrypt(
            account.access_token_enc, context=field_context(account.path, "access_token")
        )
    except errors.Unavailable:
        raise
    except errors.AppError:
        return 0  # revoke_at_tiktok logs the same failure next
    done = 0
    for publish_id in publish_ids:
        try:
            tiktok.cancel_publish(token, publish_id)
            done += 1
        except errors.AppError as exc:
            log.warning(
                "cancel at TikTok failed during deletion",
                extra={"uid": account.uid, "code": exc.code, "reason": exc.reason},
            )
    return done


def delete_documents(
    db: firestore.Client, accounts: AccountStore, uid: str, budget: Budget
) -> tuple[int, bool]:
    """Delete every document of the user but the tombstone, a batch at a time, until done or
    ``budget`` is spent; (documents deleted, finished).

    The connections go first, one by one, each with its ``deleted`` event in the same commit
    (a later sweep finds none left, so each is announced once); then the user's other events
    still in the outbox (:data:`~shared.users.data_rights.RELATED`), so nothing about the user
    is published after their deletion but the deletion itself."""
    from shared.store.analytics import AnalyticsStore
    from shared.store.outbox import DELETED

    deleted = 0
    for account in accounts.list(uid):
        if accounts.delete(uid, account.open_id, status=DELETED):
            deleted += 1
        deleted += AnalyticsStore(db).delete_all(uid, account.open_id)
    for related in RELATED:
        count, finished = delete_pages(db, _paged(related.query(db, uid), related.order), budget)
        deleted += count
        if not finished:
            return deleted, False
    for sub in db.collection(USERS).document(uid).collections():
        count, finished = delete_pages(db, _paged(sub), budget)
        deleted += count
        if not finished:
            return deleted, False
        deleted += db.recursive_delete(sub)  # nested deeper: each account's analytics
    return deleted, True
