"""Account deletion that wins every race with requests in flight, within one request's time.

The race: a request that started before ``DELETE /api/me`` (a publish waiting on TikTok, a chunk
streaming, a poll) may write after deletion has swept the user's documents, recreating a post, a
publish-id pointer or an upload URL for a user who is gone. The mechanism, chosen as the cheapest
one that is sound without a transaction on every write:

1. **Tombstone first.** Deletion begins by replacing ``users/{uid}`` with a tombstone holding only
   the uid and times (:func:`mark_deleting`). From then on ``user_is_live`` is false for the
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import errors
from shared.store.user_data import Budget, UserData

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.accounts import Account, AccountStore
    from shared.store.posts import PostStore
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

# The longest HTTP function timeout (300 s: accounts and publish_init, deploy/table.py) plus a
# margin for clock skew: after this, no request that began before the tombstone is still running.
IN_FLIGHT_BOUND = timedelta(minutes=6)
REQUEST_BUDGET = 30.0  # seconds of document deletion inside DELETE /api/me (Hosting allows 60)
JOB_BUDGET = 240.0  # seconds per scheduled run (the function's timeout is 300)
DUE_LIMIT = 50


def mark_deleting(data: UserData, uid: str, now: datetime) -> None:
    """Tombstone the user: from now on every write-then-re-check sees them gone."""
    data.mark_deleting(uid, now, sweep_after=now + IN_FLIGHT_BOUND)


def user_deleted() -> errors.NotFound:
    return errors.NotFound(
        "this account was deleted while the request was running", reason="user.deleted"
    )


def finish_deletions(
    data: UserData,
    accounts: AccountStore,
    posts: PostStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    now: datetime,
    budget_seconds: float = JOB_BUDGET,
) -> int:
    """The scheduled part: continue every deletion that is due; how many tombstones it removed."""
    budget = Budget(budget_seconds)
    removed = 0
    for uid, sweep_after in data.due_deletions(now, DUE_LIMIT):
        if budget.spent():
            break
        try:  # a connect slipped in
            stop_at_tiktok(accounts, posts, vault, tiktok, uid=uid)
        except errors.AppError as exc:  # KMS down: this user waits for the next run
            log.warning("deletion postponed", extra={"uid": uid, "reason": exc.reason})
            continue
        _, finished = data.delete(uid, budget)
        if finished and sweep_after <= now:
            data.remove_tombstone(uid)
            removed += 1
        else:
            data.set_deletion_due(uid, now if not finished else sweep_after)
    log.info("deletions continued", extra={"removed": removed})
    return removed


def stop_at_tiktok(
    accounts: AccountStore,
    posts: PostStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
) -> tuple[tuple[tuple[str, str], ...], int]:
    """Cancel each connection's unfinished publishes at TikTok, then revoke it; ((open_id, what
    became of it at TikTok) per account, publishes cancelled). Cancelling comes first: a revoked
    token can cancel nothing."""
    from shared.accounts.service import revoke_at_tiktok

    outcomes = []
    cancelled = 0
    for account in accounts.list(uid):
        cancelled += _cancel_unfinished(posts, vault, tiktok, account)
        outcomes.append((account.open_id, revoke_at_tiktok(vault, tiktok, account)))
    return tuple(outcomes), cancelled


def _cancel_unfinished(
    posts: PostStore, vault: Vault, tiktok: TikTokClient, account: Account
) -> int:
    from shared.status.order import POLLABLE

    publish_ids = posts.publish_ids(account.uid, account.open_id, statuses=POLLABLE)
    if not publish_ids:
        return 0
    try:
        token = account.access_token(vault)
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
