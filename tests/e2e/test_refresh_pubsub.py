"""The scheduled refresh end to end through the Pub/Sub emulator and the dev server's CloudEvent
functions: the local trigger (as Cloud Scheduler) runs ``refresh_tokens``, and a run's fan-out
reaches ``refresh_batch`` and refreshes every due account exactly once. Promise P5.
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
from shared.store.accounts import Account
from shared.tokens.scheduler import run_scheduled
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e


def seed_due(fake: FakeTikTok, count: int) -> list[Account]:
    return seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        fake_grants(fake.base_url, count),
        now=datetime.now(UTC),
        access_expires_in=timedelta(minutes=10),
    )


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll (bounded, with backoff) until ``condition`` holds: delivery is asynchronous."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the refresh to land"
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def refreshed(accounts: list[Account]) -> Callable[[], bool]:
    store = runtime.account_store()

    def check() -> bool:
        for account in accounts:
            stored = store.get(account.uid, account.open_id)
            if stored is None or stored.access_expires_at == account.access_expires_at:
                return False
        return True

    return check


def test_the_local_trigger_runs_the_scheduled_refresh_through_pubsub(
    pubsub: Stack, fake_tiktok: FakeTikTok, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = seed_due(fake_tiktok, 5)
    for key in ("PUBSUB_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.setenv(key, pubsub.env()[key])

    assert trigger.main(["refresh"]) == 0

    wait_until(refreshed(accounts))
    assert fake_tiktok.calls()["token"] == 5


def test_fan_out_through_pubsub_refreshes_every_due_account_exactly_once(
    pubsub: Stack, fake_tiktok: FakeTikTok
) -> None:
    accounts = seed_due(fake_tiktok, 23)
    store, vault, tiktok = runtime.account_store(), runtime.vault(), runtime.tiktok()

    summary = run_scheduled(
        store, vault, tiktok, runtime.pubsub(), now=datetime.now(UTC), local_limit=3, batch_size=4
    )

    assert (summary.refreshed, summary.fanned_out, summary.batches) == (3, 20, 5)
    wait_until(refreshed(accounts))
    assert fake_tiktok.calls()["token"] == 23
    for account in accounts:
        assert [a["refreshes"] for a in fake_tiktok.authorizations(account.open_id)] == [1]
