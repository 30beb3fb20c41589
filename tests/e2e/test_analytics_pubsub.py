"""The daily analytics run end to end through the Pub/Sub emulator and the dev server's CloudEvent
functions: ``python -m emulator.trigger analytics`` (as Cloud Scheduler) runs
``analytics_snapshot``, whose fan-out reaches ``analytics_snapshot_batch``; every active account
ends with exactly one snapshot for the day, even when the trigger fires twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from emulator import trigger
from emulator.seed import fake_grants, seed_accounts
from emulator.stack import Stack
from shared import runtime
from shared.analytics import scheduler
from shared.store.accounts import Account
from shared.store.analytics import ANALYTICS
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e


def count(account: Account) -> int:
    db = runtime.firestore_client()
    ref = db.collection("users", account.uid, "accounts", account.open_id, ANALYTICS)
    return len(list(ref.stream()))


def wait_until(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.2
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the snapshots to land"
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def test_the_local_trigger_takes_one_snapshot_per_account_through_pubsub(
    pubsub: Stack, fake_tiktok: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        fake_grants(fake_tiktok.base_url, 5),
        now=datetime.now(UTC),
        access_expires_in=timedelta(hours=12),
    )
    for account in accounts:
        fake_tiktok.control("POST", f"users/{account.open_id}/videos", json={"count": 3})
    for key in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.setenv(key, pubsub.env()[key])

    assert trigger.main(["analytics"]) == 0
    assert trigger.main(["analytics"]) == 0  # a second delivery of the day
    wait_until(lambda: all(count(a) == 1 for a in accounts))
    time.sleep(2)  # let the second run finish too
    assert [count(a) for a in accounts] == [1] * 5
    assert fake_tiktok.calls().get("user_info", 0) == 5  # the second run called TikTok for none


def test_the_fan_out_reaches_the_batch_function(
    pubsub: Stack, fake_tiktok: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        fake_grants(fake_tiktok.base_url, 4),
        now=datetime.now(UTC),
        access_expires_in=timedelta(hours=12),
    )
    summary = scheduler.run_scheduled(
        runtime.snapshotter(), runtime.pubsub(), now=datetime.now(UTC), local_limit=1, batch_size=2
    )
    assert (summary.taken, summary.fanned_out) == (1, 3)
    wait_until(lambda: all(count(a) == 1 for a in accounts))
