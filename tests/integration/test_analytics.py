"""Daily analytics snapshots against the Firestore emulator, the fake KMS and the fake TikTok.

One snapshot per account per UTC day under redelivery and concurrency, the fewest TikTok calls,
the Display API budget keeping TikTok from ever answering 429, accounts without the scopes
skipped with the reason kept, the fan-out to batches, 19-digit ids stored as strings, and the
setting that turns collection off. Promise P19.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.seed import fake_grants, seed_accounts
from emulator.stack import Stack
from shared import runtime
from shared.analytics.scheduler import parse_batch, run_batch, run_scheduled
from shared.analytics.series import set_analytics
from shared.analytics.snapshot import (
    DISPLAY_LIMIT,
    Outcome,
    Snapshotter,
    calls_needed,
    take_snapshot,
)
from shared.jobs import ANALYTICS_BATCH_TOPIC
from shared.store.accounts import Account
from shared.store.analytics import ANALYTICS, AnalyticsStore
from shared.tiktok.client import TikTokClient, make_http_client
from tests.support import FakeTikTok

pytestmark = pytest.mark.emulators


@pytest.fixture
def snapshotter(fake_tiktok: FakeTikTok, clean: Stack) -> Snapshotter:
    env = clean.env()
    tiktok = TikTokClient(
        make_http_client(env["TIKTOK_API_BASE"]),
        client_key=env["TIKTOK_CLIENT_KEY"],
        client_secret=env["TIKTOK_CLIENT_SECRET"],
        redirect_uri=env["TIKTOK_REDIRECT_URI"],
        auth_url=env["TIKTOK_AUTH_URL"],
        sleep=lambda _: None,
    )
    db = runtime.firestore_client()
    return Snapshotter(runtime.account_store(), AnalyticsStore(db), runtime.vault(), tiktok)


class Collect:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    def publish(self, topic: str, data: bytes) -> str:
        self.messages.append((topic, data))
        return str(len(self.messages))


def seed(fake: FakeTikTok, count: int, videos: int = 45) -> list[Account]:
    grants = fake_grants(fake.base_url, count)
    accounts = seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        grants,
        now=datetime.now(UTC),
        access_expires_in=timedelta(hours=12),
        users=3,
    )
    for account in accounts:
        fake.control("POST", f"users/{account.open_id}/videos", json={"count": videos})
    return accounts


def snapshots(account: Account) -> list[dict[str, Any]]:
    db = runtime.firestore_client()
    docs = db.collection("users", account.uid, "accounts", account.open_id, ANALYTICS).stream()
    return [d.to_dict() or {} for d in docs]


def display_calls(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return counts.get("user_info", 0) + counts.get("video_list", 0) + counts.get("video_query", 0)


def test_a_snapshot_holds_the_stats_and_the_recent_videos_with_string_ids(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    (account,) = seed(fake_tiktok, 1, videos=45)
    fake_tiktok.control(
        "POST",
        f"users/{account.open_id}/videos",
        json={"videos": [{"title": "newest", "view_count": 5, "create_time": 2_000_000_000}]},
    )
    seeded = fake_tiktok.control("GET", f"users/{account.open_id}/videos")["videos"]
    newest_id = next(v["id"] for v in seeded if v["title"] == "newest")
    now = datetime.now(UTC)
    result = take_snapshot(snapshotter, account, now=now)
    assert result.outcome is Outcome.TAKEN
    # 1 user info + ceil(46 / 20) = 3 video pages: the fewest TikTok's API allows.
    assert result.tiktok_calls == display_calls(fake_tiktok) == 4
    (doc,) = snapshots(account)
    assert doc["date"] == now.date().isoformat()
    assert doc["expire_at"] - doc["taken_at"] == timedelta(days=400)
    assert set(doc["account"]) == {
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
    }
    assert len(doc["videos"]) == 46
    assert doc["videos"][0]["id"] == newest_id
    assert all(isinstance(v["id"], str) for v in doc["videos"])
    assert {v["id"] for v in doc["videos"]} == {v["id"] for v in seeded}
    assert all(int(v["id"]) > 2**53 for v in doc["videos"])  # a float would round them


def test_at_most_max_videos_and_the_calls_match_the_minimum(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    (account,) = seed(fake_tiktok, 1, videos=130)
    s = Snapshotter(snapshotter.accounts, snapshotter.analytics, snapshotter.vault,
                    snapshotter.tiktok, max_videos=100)  # fmt: skip
    result = take_snapshot(s, account, now=datetime.now(UTC))
    assert result.outcome is Outcome.TAKEN
    assert result.tiktok_calls == calls_needed(100) == 6 == display_calls(fake_tiktok)
    (doc,) = snapshots(account)
    assert len(doc["videos"]) == 100


def test_redelivered_runs_keep_one_snapshot_a_day_and_call_tiktok_once(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    accounts = seed(fake_tiktok, 5, videos=10)
    now = datetime.now(UTC)
    first = run_scheduled(snapshotter, Collect(), now=now)
    assert first.taken == 5
    calls = display_calls(fake_tiktok)
    assert calls == 5 * 2
    again = run_scheduled(snapshotter, Collect(), now=now + timedelta(minutes=5))
    assert again.taken == 0
    assert again.skipped["already_taken"] == 5
    assert display_calls(fake_tiktok) == calls  # a redelivery costs TikTok nothing
    assert all(len(snapshots(a)) == 1 for a in accounts)
    tomorrow = run_scheduled(snapshotter, Collect(), now=now + timedelta(days=1))
    assert tomorrow.taken == 5
    assert all(len(snapshots(a)) == 2 for a in accounts)


def test_concurrent_snapshots_of_one_account_store_one(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    (account,) = seed(fake_tiktok, 1, videos=5)
    now = datetime.now(UTC)
    results: list[Outcome] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        barrier.wait()
        results.append(take_snapshot(snapshotter, account, now=now).outcome)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(Outcome.TAKEN) == 1
    # The others found the day taken or claimed, or lost the budget's transaction to a
    # duplicate: none of them called TikTok or stored anything.
    assert set(results) <= {
        Outcome.TAKEN,
        Outcome.ALREADY_TAKEN,
        Outcome.IN_PROGRESS,
        Outcome.NO_BUDGET,
    }
    assert display_calls(fake_tiktok) == 2  # one user info, one page of five videos
    assert len(snapshots(account)) == 1


def test_the_fan_out_publishes_batches_that_take_the_rest_once(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    accounts = seed(fake_tiktok, 7, videos=3)
    now = datetime.now(UTC)
    out = Collect()
    run = run_scheduled(snapshotter, out, now=now, page_size=3, local_limit=2, batch_size=2)
    assert (run.taken, run.fanned_out, run.batches) == (2, 5, 4)  # batches never span pages
    assert {topic for topic, _ in out.messages} == {ANALYTICS_BATCH_TOPIC}
    for _, data in out.messages + out.messages:  # every batch delivered twice
        run_batch(snapshotter, parse_batch(data), now=now)
    assert all(len(snapshots(a)) == 1 for a in accounts)


def test_a_snapshot_waits_for_room_in_the_tokens_display_budget(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    short, enough = seed(fake_tiktok, 2, videos=100)
    s = Snapshotter(snapshotter.accounts, snapshotter.analytics, snapshotter.vault,
                    snapshotter.tiktok, max_videos=100)  # fmt: skip
    now = datetime.now(UTC)
    needed = calls_needed(100)
    # Other Display calls of this minute (the videos page, say) leave one call too few...
    spent = s.analytics.take_calls(
        short.uid, short.open_id, DISPLAY_LIMIT - needed + 1, now, DISPLAY_LIMIT, 60.0
    )
    assert spent == "ok"
    assert take_snapshot(s, short, now=now).outcome is Outcome.NO_BUDGET
    assert display_calls(fake_tiktok) == 0  # TikTok was not asked at all
    assert snapshots(short) == []
    # ...or exactly enough: the snapshot fits, and the window is then full.
    spent = s.analytics.take_calls(
        enough.uid, enough.open_id, DISPLAY_LIMIT - needed, now, DISPLAY_LIMIT, 60.0
    )
    assert spent == "ok"
    assert take_snapshot(s, enough, now=now).outcome is Outcome.TAKEN
    assert display_calls(fake_tiktok) == needed
    assert s.analytics.take_calls(enough.uid, enough.open_id, 1, now, DISPLAY_LIMIT, 60.0) == (
        "no_budget"
    )
    # A minute later the window has room again.
    later = now + timedelta(seconds=61)
    assert s.analytics.take_calls(enough.uid, enough.open_id, 1, later, DISPLAY_LIMIT, 60.0) == "ok"


def test_accounts_without_the_scopes_are_skipped_with_the_reason_kept(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    no_stats, no_videos = seed(fake_tiktok, 2, videos=4)
    store = snapshotter.accounts
    store.update(no_stats.uid, no_stats.open_id, {"scopes": ["user.info.basic", "video.list"]})
    store.update(
        no_videos.uid, no_videos.open_id, {"scopes": ["user.info.basic", "user.info.stats"]}
    )
    summary = run_scheduled(snapshotter, Collect(), now=datetime.now(UTC))
    assert summary.skipped["scope_missing.user.info.stats"] == 1
    assert snapshots(no_stats) == []
    stored_no_stats = store.get(no_stats.uid, no_stats.open_id)
    assert stored_no_stats is not None
    assert stored_no_stats.analytics_reason == "scope_missing.user.info.stats"
    (doc,) = snapshots(no_videos)  # the stats are still worth keeping
    assert doc["videos"] == []
    assert doc["account"]
    stored = store.get(no_videos.uid, no_videos.open_id)
    assert stored is not None
    assert stored.analytics_reason == "scope_missing.video.list"
    assert fake_tiktok.calls().get("video_list", 0) == 0


def test_turning_analytics_off_deletes_the_snapshots_and_stops_new_ones(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    (account,) = seed(fake_tiktok, 1, videos=3)
    now = datetime.now(UTC)
    assert take_snapshot(snapshotter, account, now=now - timedelta(days=1)).outcome is Outcome.TAKEN
    assert take_snapshot(snapshotter, account, now=now).outcome is Outcome.TAKEN
    answer = set_analytics(
        snapshotter.accounts, snapshotter.analytics, uid=account.uid, open_id=account.open_id,
        body={"analytics_enabled": False}, now=now,
    )  # fmt: skip
    assert answer["deleted_snapshots"] == 2
    assert answer["account"]["analytics_enabled"] is False
    assert snapshots(account) == []
    calls = display_calls(fake_tiktok)
    summary = run_scheduled(snapshotter, Collect(), now=now + timedelta(days=1))
    assert summary.skipped["disabled"] == 1
    assert snapshots(account) == []
    assert display_calls(fake_tiktok) == calls
    set_analytics(
        snapshotter.accounts, snapshotter.analytics, uid=account.uid, open_id=account.open_id,
        body={"analytics_enabled": True}, now=now,
    )  # fmt: skip
    assert run_scheduled(snapshotter, Collect(), now=now + timedelta(days=1)).taken == 1


def test_a_snapshot_stored_after_a_disconnect_deletes_itself(
    fake_tiktok: FakeTikTok, snapshotter: Snapshotter
) -> None:
    (account,) = seed(fake_tiktok, 1, videos=3)
    fake_tiktok.control("POST", "config", json={"latency_ms": {"video_list": 500}})
    now = datetime.now(UTC)
    outcome: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: outcome.append(take_snapshot(snapshotter, account, now=now).outcome)
    )
    worker.start()
    threading.Event().wait(0.25)  # the snapshot is waiting for TikTok's video list
    snapshotter.accounts.delete(account.uid, account.open_id)
    snapshotter.analytics.delete_all(account.uid, account.open_id)
    worker.join()
    assert outcome == [Outcome.GONE]
    assert snapshots(account) == []
