"""Once a TikTok outage ends, a user waiting for a token gets one, while the schedule backs off.

The fake TikTok fails its token endpoint on command; Firestore is the emulator; the fake KMS and
the real client seal the tokens. The clock of the refresh is moved by hand instead of waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared import errors, runtime
from shared.store.accounts import ACTIVE, AccountStore
from shared.store.leases import Leases
from shared.tiktok.client import TikTokClient
from shared.tokens.fresh import ensure_fresh
from shared.tokens.refresh import USER_RETRY_GAP
from shared.tokens.scheduler import run_scheduled
from tests.integration.test_refresh import Collect, seed, token_calls
from tests.integration.test_refresh import store as store  # the fixtures, re-exported
from tests.integration.test_refresh import tiktok as tiktok
from tests.support import FakeTikTok

pytestmark = pytest.mark.emulators

MARGIN = timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def tiktok_down(fake: FakeTikTok, times: int, **extra: object) -> None:
    failure = {"endpoint": "token", "status": 503, "code": "temporarily_unavailable"}
    fake.control("POST", "fail", json={**failure, "times": times, **extra})


def test_a_user_request_refreshes_right_after_the_outage_although_the_schedule_backs_off(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)  # its access token expired during the outage
    leases = Leases(store.db)
    vault = runtime.vault()
    clock = Clock()
    tiktok_down(fake_tiktok, times=1)

    with pytest.raises(errors.Unavailable):
        ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    # At once again: not sent to TikTok, and the answer says when to come back.
    with pytest.raises(errors.Unavailable) as held:
        ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    assert held.value.reason == "account.refresh_backing_off"
    assert held.value.retry_after is not None
    assert 1 <= held.value.retry_after <= USER_RETRY_GAP.total_seconds()
    assert token_calls(fake_tiktok) == 1

    clock.now += USER_RETRY_GAP + timedelta(seconds=1)  # TikTok is back.
    run = run_scheduled(store, vault, tiktok, Collect(), now=clock.now)
    assert run.skipped["backing_off"] == 1  # the schedule keeps its backoff (a minute at least)
    refreshed = ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)

    assert refreshed.status == ACTIVE
    assert refreshed.access_expires_at > clock.now + timedelta(hours=1)
    assert token_calls(fake_tiktok) == 2
    stored = store.get(account.uid, account.open_id)
    assert stored is not None
    assert (stored.refresh_failures, stored.refresh_retry_at) == (0, None)


def test_a_burst_of_user_requests_during_the_outage_sends_one_refresh_at_a_time(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    leases = Leases(store.db)
    vault = runtime.vault()
    clock = Clock()
    tiktok_down(fake_tiktok, times=100)
    with pytest.raises(errors.Unavailable):
        ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    clock.now += USER_RETRY_GAP + timedelta(seconds=1)
    failures: list[BaseException] = []
    start = threading.Barrier(10)

    def request() -> None:
        start.wait()
        try:
            ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=request) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(failures) == 10
    assert all(isinstance(f, errors.Unavailable) for f in failures)
    assert token_calls(fake_tiktok) == 2  # the first failure, then one try for the whole burst


def test_a_retry_after_from_tiktok_holds_user_requests_back_too(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    leases = Leases(store.db)
    vault = runtime.vault()
    clock = Clock()
    fake_tiktok.control(
        "POST",
        "fail",
        json={"endpoint": "token", "status": 429, "code": "rate_limit_exceeded", "retry_after": 90},
    )
    with pytest.raises(errors.ResourceExhausted):
        ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    clock.now += timedelta(seconds=60)
    with pytest.raises(errors.Unavailable) as held:
        ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    assert held.value.reason == "account.refresh_backing_off"
    assert held.value.retry_after is not None
    assert 29 <= held.value.retry_after <= 31
    clock.now += timedelta(seconds=31)
    assert ensure_fresh(store, leases, vault, tiktok, account, margin=MARGIN, clock=clock)
    assert token_calls(fake_tiktok) == 2
