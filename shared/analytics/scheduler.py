"""The daily analytics run: page through active accounts, snapshot some here, fan the rest out.

Cloud Scheduler publishes to ``analytics-snapshot`` once a day; :func:`run_scheduled` pages
through the active accounts with a cursor (one page in memory at a time) and snapshots up to
``local_limit`` of them itself with bounded concurrency; every further account goes,
``batch_size`` at a time, to ``analytics-snapshot-batch``, whose function (:func:`run_batch`)
snapshots one batch, so many instances share a large run (as the token refresh does).

Pub/Sub delivers at least once: a redelivered run or batch finds the day's snapshots taken (one
read each, no TikTok call), and a concurrent one loses the create, so each account has one
snapshot a day whatever happens. Each run logs one summary: taken, skipped and failed by reason.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from shared import errors, jobs
from shared.analytics.snapshot import Outcome, Snapshotter, take_snapshot
from shared.jobs import ANALYTICS_BATCH_TOPIC
from shared.pubsub import Publishes, share_out
from shared.store.accounts import Account, AccountStore
from shared.store.outage import as_app_error

log = logging.getLogger(__name__)

PAGE_SIZE = 200
LOCAL_LIMIT = 200
BATCH_SIZE = 100
CONCURRENCY = 16  # below the TikTok client's pool of 20 connections


@dataclass
class RunSummary(jobs.RunSummary):
    """What one run or batch did; ``skipped`` and ``failed`` count by reason."""

    accounts: int = 0
    taken: int = 0
    tiktok_calls: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    subject = "analytics snapshot"
    kind_field = "analytics_run"
    logger = log


def _pages(store: AccountStore, page_size: int) -> Iterator[list[Account]]:
    for page in store.pages(store.active_query(), page_size):
        yield [account for account, _ in page]


def _snapshot_all(
    s: Snapshotter,
    accounts: list[Account],
    pool: ThreadPoolExecutor,
    now: datetime,
    summary: RunSummary,
) -> None:
    def one(account: Account) -> tuple[Outcome, str | None, int]:
        try:
            result = take_snapshot(s, account, now=now)
        except Exception as exc:  # Firestore or KMS trouble outside TikTok's calls
            failure = as_app_error(exc)
            if failure is None:
                raise
            return Outcome.FAILED, failure.reason or failure.code, 0
        return result.outcome, result.reason, result.tiktok_calls

    for outcome, reason, calls in pool.map(one, accounts):
        summary.accounts += 1
        summary.tiktok_calls += calls
        if outcome is Outcome.TAKEN:
            summary.taken += 1
            if reason:
                summary.skipped[f"videos.{reason}"] += 1
        elif outcome is Outcome.FAILED:
            summary.failed[reason or outcome.value] += 1
        else:
            summary.skipped[reason or outcome.value] += 1


def run_scheduled(
    s: Snapshotter,
    publisher: Publishes,
    *,
    now: datetime,
    page_size: int = PAGE_SIZE,
    local_limit: int = LOCAL_LIMIT,
    batch_size: int = BATCH_SIZE,
    concurrency: int = CONCURRENCY,
) -> RunSummary:
    """One daily run: snapshot up to ``local_limit`` accounts here, publish the rest."""
    clock = time.monotonic()
    summary = RunSummary("run")
    with ThreadPoolExecutor(concurrency, thread_name_prefix="analytics") as pool:
        for local in share_out(
            _pages(s.accounts, page_size),
            publisher,
            ANALYTICS_BATCH_TOPIC,
            lambda chunk: encode_batch(chunk, now),
            summary,
            local_limit=local_limit,
            batch_size=batch_size,
        ):
            _snapshot_all(s, local, pool, now, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary


def encode_batch(accounts: list[Account], now: datetime) -> bytes:
    items = [{"uid": a.uid, "open_id": a.open_id} for a in accounts]
    body = {"v": 1, "day": now.date().isoformat(), "accounts": items}
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Batch:
    day: str  # the UTC day the run was for: a batch delivered the next day does nothing
    accounts: list[tuple[str, str]]


def parse_batch(data: bytes) -> Batch:
    """The accounts of a batch message, or INVALID_ARGUMENT naming what is wrong."""
    try:
        body = json.loads(data)
        items = body["accounts"] if body.get("v") == 1 else None
        if not isinstance(items, list) or not isinstance(body.get("day"), str):
            raise ValueError("accounts")
        return Batch(body["day"], [(str(i["uid"]), str(i["open_id"])) for i in items])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise errors.InvalidArgument(
            "an analytics batch must be {v: 1, day, accounts: [{uid, open_id}]}"
        ) from exc


def run_batch(
    s: Snapshotter, batch: Batch, *, now: datetime, concurrency: int = CONCURRENCY
) -> RunSummary:
    """Snapshot one published batch (accounts gone since are skipped)."""
    clock = time.monotonic()
    summary = RunSummary("batch")
    if batch.day != now.date().isoformat():
        summary.skipped["stale_batch"] += len(batch.accounts)
        summary.log()
        return summary
    with ThreadPoolExecutor(concurrency, thread_name_prefix="analytics") as pool:
        current = list(pool.map(lambda item: s.accounts.get(*item), batch.accounts))
        accounts = [a for a in current if a is not None]
        summary.skipped[Outcome.GONE.value] += len(current) - len(accounts)
        _snapshot_all(s, accounts, pool, now, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary
