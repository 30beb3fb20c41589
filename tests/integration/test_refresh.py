"""Token refresh against the Firestore emulator, the fake KMS and the fake TikTok (real processes).

Rotation, one TikTok call for 20 concurrent requests, lease takeover after its holder is killed,
``invalid_grant`` marking the account once, a 429 storm backing off, and redelivered run and batch
messages refreshing nothing twice. Promise P5.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.seed import fake_grants, seed_accounts
from emulator.stack import ROOT, Stack
from shared import errors, runtime
from shared.crypto.vault import field_context
from shared.store.accounts import ACTIVE, NEEDS_RECONNECT, Account, AccountStore
from shared.store.leases import Leases, lease_key
from shared.tiktok.client import TikTokClient, make_http_client
from shared.tokens.fresh import ensure_fresh, fresh_access_token
from shared.tokens.refresh import Due, Outcome, refresh_account
from shared.tokens.scheduler import BATCH_TOPIC, parse_batch, run_batch, run_scheduled
from tests.support import FakeTikTok

pytestmark = pytest.mark.emulators


@pytest.fixture
def tiktok(fake_tiktok: FakeTikTok, clean: Stack) -> TikTokClient:
    """The real client against the fake, without sleeping between its own retries."""
    env = clean.env()
    return TikTokClient(
        make_http_client(env["TIKTOK_API_BASE"]),
        client_key=env["TIKTOK_CLIENT_KEY"],
        client_secret=env["TIKTOK_CLIENT_SECRET"],
        redirect_uri=env["TIKTOK_REDIRECT_URI"],
        auth_url=env["TIKTOK_AUTH_URL"],
        sleep=lambda _: None,
    )


@pytest.fixture
def store(clean: Stack) -> AccountStore:
    return runtime.account_store()


def seed(
    fake: FakeTikTok, count: int, expires_in: timedelta = timedelta(minutes=-1)
) -> list[tuple[Account, dict[str, Any]]]:
    grants = fake_grants(fake.base_url, count)
    db = runtime.firestore_client()
    now = datetime.now(UTC)
    accounts = seed_accounts(
        db, runtime.vault(), grants, now=now, access_expires_in=expires_in, users=3
    )
    return list(zip(accounts, grants, strict=True))


def token_calls(fake: FakeTikTok) -> int:
    return fake.calls().get("token", 0)


def decrypt(account: Account, name: str) -> str:
    stored = account.access_token_enc if name == "access_token" else account.refresh_token_enc
    return runtime.vault().decrypt(stored, context=field_context(account.path, name))


class Collect:
    """A publisher that keeps what it is given (the run under test publishes batches here)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def publish(self, topic: str, data: bytes) -> str:
        self.messages.append((topic, data))
        return str(len(self.messages))


def test_rotation_stores_the_new_refresh_token_and_the_old_one_is_dead(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    fake_tiktok.control("POST", "config", json={"lifetimes": "newer"})
    [(account, grant)] = seed(fake_tiktok, 1)
    before = datetime.now(UTC)

    token = fresh_access_token(store, runtime.vault(), tiktok, account, now=before)

    stored = store.get(account.uid, account.open_id)
    assert stored is not None
    assert token == decrypt(stored, "access_token") != grant["access_token"]
    new_refresh = decrypt(stored, "refresh_token")
    assert new_refresh != grant["refresh_token"]
    # Lifetimes come from TikTok's answer (the "newer" 2 h), not a hard-coded 24 h.
    assert abs((stored.access_expires_at - before).total_seconds() - 7200) < 5
    # ...and the refresh token's remaining lifetime too (at the fake it does not restart).
    expected = before + timedelta(seconds=grant["refresh_expires_in"])
    assert abs((stored.refresh_expires_at - expected).total_seconds()) < 5
    assert token_calls(fake_tiktok) == 1
    with pytest.raises(errors.FailedPrecondition) as refused:
        tiktok.refresh(grant["refresh_token"])
    assert refused.value.reason == "tiktok.invalid_grant"
    assert tiktok.refresh(new_refresh).access_token


def test_twenty_concurrent_requests_make_one_tiktok_call_and_share_the_token(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    fake_tiktok.control("POST", "config", json={"latency_ms": {"token": 300}})
    [(account, _)] = seed(fake_tiktok, 1)
    vault = runtime.vault()
    results: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(20)

    def request() -> None:
        start.wait()
        try:
            results.append(fresh_access_token(store, vault, tiktok, account, now=datetime.now(UTC)))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures
    stored = store.get(account.uid, account.open_id)
    assert stored is not None
    assert results == [decrypt(stored, "access_token")] * 20
    assert token_calls(fake_tiktok) == 1


HOLD_LEASE = """
import sys, time
from datetime import UTC, datetime, timedelta
from shared import runtime
from shared.store.leases import Leases
lease = Leases(runtime.firestore_client()).acquire(
    sys.argv[1], holder="doomed", subject=sys.argv[2], ttl=timedelta(seconds=2),
    now=datetime.now(UTC),
)
print("held" if lease else "refused", flush=True)
time.sleep(120)
"""


def test_a_killed_lease_holder_is_taken_over(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASE, lease_key("refresh", account.path), account.path],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
        finally:
            holder.kill()  # Dies holding the lease: no release, as after a crash.
            holder.wait()
    leases = Leases(runtime.firestore_client())
    assert leases.holder(lease_key("refresh", account.path), datetime.now(UTC)) == "doomed"

    refreshed = ensure_fresh(
        store, leases, runtime.vault(), tiktok, account, margin=timedelta(minutes=5)
    )

    assert refreshed.access_expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert token_calls(fake_tiktok) == 1
    assert leases.holder(lease_key("refresh", account.path), datetime.now(UTC)) is None


def test_a_stale_holder_cannot_release_its_successors_lease(clean: Stack) -> None:
    leases = Leases(runtime.firestore_client())
    now = datetime.now(UTC)
    first = leases.acquire("k", holder="a", subject="s", ttl=timedelta(seconds=1), now=now)
    assert first is not None
    assert leases.acquire("k", holder="b", subject="s", ttl=timedelta(minutes=1), now=now) is None
    later = now + timedelta(seconds=2)
    second = leases.acquire("k", holder="b", subject="s", ttl=timedelta(minutes=1), now=later)
    assert second is not None
    assert leases.acquire("k", holder="c", subject="s", ttl=timedelta(minutes=1), now=later) is None
    leases.release(first)
    assert leases.holder("k", later) == "b"
    leases.release(second)
    assert leases.holder("k", later) is None


def test_invalid_grant_marks_needs_reconnect_once_and_is_never_retried(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    fake_tiktok.control(
        "POST", "fail", json={"endpoint": "token", "status": 400, "code": "invalid_grant"}
    )
    vault = runtime.vault()

    first = run_scheduled(store, vault, tiktok, Collect(), now=datetime.now(UTC))
    second = run_scheduled(store, vault, tiktok, Collect(), now=datetime.now(UTC))

    assert first.failed == {"tiktok.invalid_grant": 1}
    assert second.due == 0
    stored = store.get(account.uid, account.open_id)
    assert stored is not None
    assert (stored.status, stored.status_reason) == (NEEDS_RECONNECT, "tiktok.invalid_grant")
    assert stored.refresh_token_enc == account.refresh_token_enc
    with pytest.raises(errors.FailedPrecondition):
        fresh_access_token(store, vault, tiktok, stored, now=datetime.now(UTC))
    assert token_calls(fake_tiktok) == 1


def test_a_429_storm_backs_off_and_leaves_the_tokens(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    pairs = seed(fake_tiktok, 3)
    fake_tiktok.control(
        "POST",
        "fail",
        json={
            "endpoint": "token",
            "status": 429,
            "code": "rate_limit_exceeded",
            "retry_after": 90,
            "times": 1000,
        },
    )
    vault = runtime.vault()
    now = datetime.now(UTC)

    first = run_scheduled(store, vault, tiktok, Collect(), now=now)
    calls_after_first = token_calls(fake_tiktok)
    second = run_scheduled(store, vault, tiktok, Collect(), now=now + timedelta(seconds=60))

    assert first.failed == {"tiktok.rate_limit_exceeded": 3}
    # A Retry-After beyond the client's cap is not slept through: one call per account.
    assert calls_after_first == 3
    assert second.due == 0
    assert second.skipped["backing_off"] == 3
    assert token_calls(fake_tiktok) == calls_after_first
    for account, _ in pairs:
        stored = store.get(account.uid, account.open_id)
        assert stored is not None
        assert stored.status == ACTIVE
        assert stored.refresh_token_enc == account.refresh_token_enc
        assert stored.refresh_failures == 1
        assert stored.refresh_retry_at is not None
        assert stored.refresh_retry_at >= now + timedelta(seconds=90)


def test_redelivered_run_and_batch_messages_refresh_nothing_twice(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    pairs = seed(fake_tiktok, 7)
    vault = runtime.vault()
    published = Collect()

    run = run_scheduled(
        store, vault, tiktok, published, now=datetime.now(UTC), local_limit=2, batch_size=2
    )
    again = run_scheduled(
        store, vault, tiktok, published, now=datetime.now(UTC), local_limit=2, batch_size=2
    )
    batches = [parse_batch(data) for topic, data in published.messages if topic == BATCH_TOPIC]
    first = [run_batch(store, vault, tiktok, items) for items in batches]
    redelivered = [run_batch(store, vault, tiktok, items) for items in batches]

    assert (run.due, run.refreshed, run.fanned_out, run.batches) == (7, 2, 5, 3)
    # The redelivered run finds the 2 it refreshed no longer due; of the 5 queued (not yet
    # refreshed) it takes 2 itself and queues 3 again: 8 queued items for 5 accounts.
    assert (again.due, again.refreshed, again.fanned_out) == (5, 2, 3)
    assert sum(s.refreshed for s in first) == 3
    assert sum(s.skipped["already_fresh"] for s in first) == 5
    assert sum(s.refreshed for s in redelivered) == 0
    assert sum(s.skipped["already_fresh"] for s in redelivered) == 8
    assert token_calls(fake_tiktok) == 7
    for account, _ in pairs:
        auths = fake_tiktok.authorizations(account.open_id)
        assert [a["refreshes"] for a in auths] == [1]


def test_an_account_refreshed_by_someone_else_is_not_refreshed_again(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, store: AccountStore
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    leases = Leases(runtime.firestore_client())
    due = Due(timedelta(minutes=5))
    vault = runtime.vault()
    first = refresh_account(store, leases, vault, tiktok, account, due=due)
    stale = refresh_account(store, leases, vault, tiktok, account, due=due)
    assert (first.outcome, stale.outcome) == (Outcome.REFRESHED, Outcome.ALREADY_FRESH)
    assert token_calls(fake_tiktok) == 1
