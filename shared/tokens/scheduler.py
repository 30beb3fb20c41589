"""The scheduled token refresh: find due accounts, refresh some here, fan the rest out.

Cloud Scheduler publishes to ``token-refresh``; :func:`run_scheduled` then pages through the due
accounts with a cursor (one page in memory at a time, whatever the number of accounts) and
refreshes up to ``local_limit`` of them itself with bounded concurrency. Every further due account
goes, ``batch_size`` at a time, to the topic ``token-refresh-batch``, whose function
(:func:`run_batch`) refreshes one batch, so many instances share a large run.

Pub/Sub delivers at least once, so each step is idempotent: a redelivered run finds the accounts
it already refreshed no longer due, and a batch names each account with the ``access_expires_at``
it was due with, so a batch delivered twice, or an account queued by two runs, is refreshed once
(the lease and the re-read in :func:`shared.tokens.refresh.refresh_account` settle any race). Each
run
logs one structured summary: due, refreshed, failed by reason, skipped by why, duration.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors, jobs
from shared.jobs import REFRESH_BATCH_TOPIC, REFRESH_TOPIC
from shared.pubsub import share_out
from shared.store.accounts import Account, AccountStore
from shared.store.outage import as_app_error
from shared.tokens.refresh import Due, Outcome, refresh_account

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.pubsub import Publishes
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

RUN_TOPIC = REFRESH_TOPIC
BATCH_TOPIC = REFRESH_BATCH_TOPIC
# The schedule runs every 10 minutes (shared/jobs.py): an access token expiring within 45 is
# refreshed by one of the next runs even if one or two fail. A refresh token in its last week is
# refreshed once a day, so a rotation (which may restart its lifetime) is not missed, without
# refreshing it every run.
HORIZON = Due(access_within=timedelta(minutes=45), refresh_within=timedelta(days=7))
REFRESH_TOKEN_COOLDOWN = timedelta(days=1)
PAGE_SIZE = 200
LOCAL_LIMIT = 200
BATCH_SIZE = 100
CONCURRENCY = 16  # below the TikTok client's pool of 20 connections


@dataclass
class RunSummary(jobs.RunSummary):
    """What one run or batch did; ``failed`` and ``skipped`` count by reason."""

    due: int = 0
    refreshed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    subject = "token refresh"
    kind_field = "refresh_run"
    logger = log


def due_queries(store: AccountStore, now: datetime, due: Due = HORIZON) -> list[Any]:
    """The due-queries: access tokens, then refresh tokens, expiring within ``due``."""
    return store.expiring_queries(now, due.access_within, due.refresh_within)


def _due_accounts(
    store: AccountStore,
    now: datetime,
    started: datetime,
    due: Due,
    page_size: int,
    summary: RunSummary,
) -> Iterator[list[Account]]:
    """Pages of due accounts, backoffs and this run's own refreshes left out (and counted)."""
    for index, query in enumerate(due_queries(store, now, due)):
        for page in store.pages(query, page_size):
            keep = []
            for account, data in page:
                refreshed_at = data.get("refreshed_at")
                if account.refresh_retry_at is not None and account.refresh_retry_at > now:
                    summary.skipped["backing_off"] += 1
                elif refreshed_at is not None and (
                    refreshed_at >= started
                    or (index == 1 and refreshed_at > now - REFRESH_TOKEN_COOLDOWN)
                ):
                    summary.skipped["recently_refreshed"] += 1
                else:
                    keep.append(account)
            summary.due += len(keep)
            yield keep


def _refresh_all(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    accounts: list[Account],
    pool: ThreadPoolExecutor,
    due: Due,
    summary: RunSummary,
) -> None:
    leases = store.leases

    def one(account: Account) -> tuple[Outcome, str | None]:
        try:
            result = refresh_account(store, leases, vault, tiktok, account, due=due)
        except Exception as exc:  # Firestore or KMS trouble outside TikTok's call
            failure = as_app_error(exc)
            if failure is None:
                raise
            return Outcome.FAILED, failure.reason or failure.code
        return result.outcome, result.reason

    for outcome, reason in pool.map(one, accounts):
        if outcome is Outcome.REFRESHED:
            summary.refreshed += 1
        elif outcome in (Outcome.FAILED, Outcome.NEEDS_RECONNECT):
            summary.failed[reason or outcome.value] += 1
        else:
            summary.skipped[outcome.value] += 1


def run_scheduled(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    publisher: Publishes,
    *,
    now: datetime,
    due: Due = HORIZON,
    page_size: int = PAGE_SIZE,
    local_limit: int = LOCAL_LIMIT,
    batch_size: int = BATCH_SIZE,
    concurrency: int = CONCURRENCY,
) -> RunSummary:
    """One scheduled run: refresh up to ``local_limit`` due accounts here, publish the rest."""
    clock = time.monotonic()
    summary = RunSummary("run")
    pages = _due_accounts(store, now, now, due, page_size, summary)
    with ThreadPoolExecutor(concurrency, thread_name_prefix="refresh") as pool:
        for local in share_out(
            pages,
            publisher,
            BATCH_TOPIC,
            encode_batch,
            summary,
            local_limit=local_limit,
            batch_size=batch_size,
        ):
            _refresh_all(store, vault, tiktok, local, pool, due, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary


def encode_batch(accounts: list[Account]) -> bytes:
    items = [
        {"uid": a.uid, "open_id": a.open_id, "seen": a.access_expires_at.isoformat()}
        for a in accounts
    ]
    return json.dumps({"v": 1, "accounts": items}, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BatchItem:
    uid: str
    open_id: str
    seen: datetime  # the access_expires_at the account was due with


def parse_batch(data: bytes) -> list[BatchItem]:
    """The accounts of a batch message, or INVALID_ARGUMENT naming what is wrong."""
    try:
        body = json.loads(data)
        items = body["accounts"] if body.get("v") == 1 else None
        if not isinstance(items, list):
            raise ValueError("accounts")
        return [
            BatchItem(str(i["uid"]), str(i["open_id"]), datetime.fromisoformat(i["seen"]))
            for i in items
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise errors.InvalidArgument(
            "a token-refresh batch must be {v: 1, accounts: [{uid, open_id, seen}]}"
        ) from exc


def run_batch(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    items: list[BatchItem],
    *,
    due: Due = HORIZON,
    concurrency: int = CONCURRENCY,
) -> RunSummary:
    """Refresh one published batch; accounts refreshed since it was published are skipped."""
    clock = time.monotonic()
    summary = RunSummary("batch")
    with ThreadPoolExecutor(concurrency, thread_name_prefix="refresh") as pool:
        current = list(pool.map(lambda item: store.get(item.uid, item.open_id), items))
        accounts = []
        for item, account in zip(items, current, strict=True):
            if account is None:
                summary.skipped[Outcome.GONE.value] += 1
            elif account.access_expires_at != item.seen:
                summary.skipped[Outcome.ALREADY_FRESH.value] += 1
            else:
                accounts.append(account)
        summary.due = len(accounts)
        _refresh_all(store, vault, tiktok, accounts, pool, due, summary)
    summary.duration_ms = int((time.monotonic() - clock) * 1000)
    summary.log()
    return summary
