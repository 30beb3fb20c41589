"""A Firestore outage while one account is worked on fails that account, not the whole batch.

The Firestore client raises Google's exceptions (a ``RetryError`` once its bounded retries are
spent); each scheduled job's per-account step translates them like the HTTP edge does, counts
the account as failed with ``store.unavailable`` and goes on with the others. Any other
exception is still a bug and ends the run (Pub/Sub redelivers it).
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core import exceptions as google

from shared.analytics import scheduler as analytics_scheduler
from shared.analytics.snapshot import Outcome as SnapshotOutcome
from shared.publishing import due_run
from shared.tokens import scheduler as tokens_scheduler
from shared.tokens.refresh import Outcome as RefreshOutcome

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
UNUSED: Any = Any  # stands for a collaborator the step under test never touches


def stalled(_: Any) -> google.RetryError:
    # google.api_core's exception constructors are unannotated
    slow = google.DeadlineExceeded("slow")  # type: ignore[no-untyped-call]
    return google.RetryError("Timeout of 15.0s exceeded", cause=slow)  # type: ignore[no-untyped-call]


def test_the_due_run_counts_a_stalled_account_and_sends_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def publish(d: Any, uid: str, open_id: str) -> Counter[str]:
        if open_id == "slow":
            raise stalled(None)
        return Counter({"sent": 2})

    monkeypatch.setattr(due_run, "publish_due_account", publish)
    summary = due_run.DueSummary("batch")
    with ThreadPoolExecutor(2) as pool:
        due_run._work(UNUSED, [("u1", "a"), ("u2", "slow"), ("u3", "b")], pool, summary)
    assert summary.accounts == 3
    assert summary.outcomes == Counter({"sent": 4, "error": 1})


def test_the_due_run_still_stops_on_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def publish(d: Any, uid: str, open_id: str) -> Counter[str]:
        raise KeyError("status")

    monkeypatch.setattr(due_run, "publish_due_account", publish)
    with ThreadPoolExecutor(1) as pool, pytest.raises(KeyError):
        due_run._work(UNUSED, [("u1", "a")], pool, due_run.DueSummary("batch"))


def test_the_token_refresh_counts_a_stalled_account_as_store_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refresh(store: Any, leases: Any, vault: Any, tiktok: Any, account: Any, due: Any) -> Any:
        if account.open_id == "slow":
            raise stalled(None)
        return SimpleNamespace(outcome=RefreshOutcome.REFRESHED, reason=None)

    monkeypatch.setattr(tokens_scheduler, "refresh_account", refresh)
    summary = tokens_scheduler.RunSummary("batch")
    store: Any = SimpleNamespace(leases=None)
    accounts: Any = [SimpleNamespace(open_id=o) for o in ("a", "slow", "b")]
    with ThreadPoolExecutor(2) as pool:
        tokens_scheduler._refresh_all(
            store,
            UNUSED,
            UNUSED,
            accounts,
            pool,
            tokens_scheduler.HORIZON,
            summary,
        )
    assert summary.refreshed == 2
    assert summary.failed == Counter({"store.unavailable": 1})


def test_the_analytics_run_counts_a_stalled_account_as_store_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def snapshot(s: Any, account: Any, now: datetime) -> Any:
        if account.open_id == "slow":
            raise stalled(None)
        return SimpleNamespace(outcome=SnapshotOutcome.TAKEN, reason=None, tiktok_calls=2)

    monkeypatch.setattr(analytics_scheduler, "take_snapshot", snapshot)
    summary = analytics_scheduler.RunSummary("batch")
    accounts: Any = [SimpleNamespace(open_id=o) for o in ("a", "slow", "b")]
    with ThreadPoolExecutor(2) as pool:
        analytics_scheduler._snapshot_all(UNUSED, accounts, pool, NOW, summary)
    assert (summary.accounts, summary.taken, summary.tiktok_calls) == (3, 2, 4)
    assert summary.failed == Counter({"store.unavailable": 1})
