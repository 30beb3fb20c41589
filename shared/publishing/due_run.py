"""The minute's run of scheduled posts: find the accounts with due posts, send some here, fan out.

Cloud Scheduler publishes to ``publish-due`` every minute; :func:`run_due` pages through the due
posts (only their ``uid`` and ``open_id``, one page in memory at a time), works on up to
``local_limit`` accounts itself with bounded concurrency, and publishes every further account,
``batch_size`` at a time, to ``publish-due-batch``, whose function (:func:`run_batch`) works on one
batch, so many instances share a big minute. Work is per account (shared/publishing/due.py):
its posts go out in order, 6 a minute, each at most once.

Pub/Sub delivers at least once and a slow run may overlap the next minute's: every step is safe
to repeat. A second run, or a batch delivered twice, finds the account's lease held (``busy``) or
its posts already sent (no longer ``SCHEDULED``); no post is ever initialised twice. Each run
logs one structured summary: accounts, outcomes by name, fanned out, duration.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import errors, jobs
from shared.jobs import PUBLISH_DUE_BATCH_TOPIC
from shared.publishing.due import Due, publish_due_account
from shared.pubsub import share_out
from shared.store.outage import as_app_error

if TYPE_CHECKING:
    from shared.pubsub import Publishes

log = logging.getLogger(__name__)

PAGE_SIZE = 500
LOCAL_LIMIT = 50
BATCH_SIZE = 50
CONCURRENCY = 16  # below the TikTok client's pool of 20 connections


@dataclass
class DueSummary(jobs.RunSummary):
    """What one run or batch did: accounts looked at, post outcomes by name."""

    accounts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    subject = "scheduled posts"
    kind_field = "due_run"
    logger = log


def new_holder(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def _work(d: Due, accounts: list[tuple[str, str]], pool: ThreadPoolExecutor, s: DueSummary) -> None:
    def one(account: tuple[str, str]) -> Counter[str]:
        try:
            return publish_due_account(d, *account)
        except Exception as exc:  # Firestore or KMS trouble: the next run tries again
            failure = as_app_error(exc)
            if failure is None:
                raise
            log.warning(
                "an account's scheduled posts were not sent this run",
                extra={"code": failure.code, "reason": failure.reason},
            )
            return Counter({"error": 1})

    s.accounts += len(accounts)
    for counts in pool.map(one, accounts):
        s.outcomes.update(counts)


def run_due(
    d: Due,
    publisher: Publishes,
    *,
    now: datetime,
    page_size: int = PAGE_SIZE,
    local_limit: int = LOCAL_LIMIT,
    batch_size: int = BATCH_SIZE,
    concurrency: int = CONCURRENCY,
) -> DueSummary:
    """One minute's run: up to ``local_limit`` accounts here, the rest published in batches."""
    clock = time.monotonic()
    summary = DueSummary("run")
    # Every batch is published before this instance starts its own share.
    pages = d.schedules.due_accounts(now, page_size)
    local = [
        account
        for here in share_out(
            pages,
            publisher,
            PUBLISH_DUE_BATCH_TOPIC,
            lambda chunk: encode_batch(chunk, now),
            summary,
            local_limit=local_limit,
            batch_size=batch_size,
        )
        for account in here
    ]
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="due") as pool:
        _work(d, local, pool, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary


def encode_batch(accounts: list[tuple[str, str]], now: datetime) -> bytes:
    items = [{"uid": uid, "open_id": open_id} for uid, open_id in accounts]
    body = {"v": 1, "due": now.isoformat(), "accounts": items}
    return json.dumps(body, separators=(",", ":")).encode()


def parse_batch(data: bytes) -> list[tuple[str, str]]:
    """The accounts of a batch message, or INVALID_ARGUMENT naming what is wrong."""
    try:
        body: Any = json.loads(data)
        items = body["accounts"] if body.get("v") == 1 else None
        if not isinstance(items, list):
            raise ValueError("accounts")
        accounts = [(str(i["uid"]), str(i["open_id"])) for i in items]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise errors.InvalidArgument(
            "a publish-due batch must be {v: 1, due, accounts: [{uid, open_id}]}"
        ) from exc
    if not all(uid and open_id and "/" not in uid for uid, open_id in accounts):
        raise errors.InvalidArgument("a publish-due batch names an account without uid or open_id")
    return accounts


def run_batch(
    d: Due, accounts: list[tuple[str, str]], *, concurrency: int = CONCURRENCY
) -> DueSummary:
    """One published batch: each account's posts due now (a late batch sends what is due)."""
    clock = time.monotonic()
    summary = DueSummary("batch")
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="due") as pool:
        _work(d, accounts, pool, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary
