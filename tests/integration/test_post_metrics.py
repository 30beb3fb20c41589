"""The history's metrics against the Firestore emulator: the newest live snapshot decides
(expired ones are left out), and each post gets the metrics of exactly its own ids, as strings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from emulator.stack import Stack
from shared import runtime
from shared.analytics.posts import with_metrics
from shared.store.analytics import RETENTION, AnalyticsStore

UID = "user-1"
OPEN_ID = "-000open"
OLD, NEW = "7311955624011532587", "7311955624011532599"  # above 2**53


@pytest.fixture
def store(clean: Stack) -> AnalyticsStore:
    return AnalyticsStore(runtime.firestore_client())


def video(video_id: str, views: int) -> dict[str, object]:
    counts = {"view_count": views, "like_count": 2, "comment_count": 3, "share_count": 4}
    return {"id": video_id, "title": "t", **counts}


def take(store: AnalyticsStore, day: date, videos: list[dict[str, object]]) -> None:
    now = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
    assert store.create(UID, OPEN_ID, day, account={"follower_count": 1}, videos=videos, now=now)


def test_the_newest_live_snapshot_is_the_latest(store: AnalyticsStore) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert store.latest(UID, OPEN_ID, now) is None
    for back in (2, 0, 1):
        take(store, now.date() - timedelta(days=back), [video(OLD, 100 - back)])
    latest = store.latest(UID, OPEN_ID, now)
    assert latest is not None
    assert latest["date"] == "2026-12-01"
    assert store.latest(UID, OPEN_ID, now + RETENTION + timedelta(days=1)) is None  # all expired


def test_each_post_gets_the_metrics_of_its_own_ids(store: AnalyticsStore) -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    take(store, now.date() - timedelta(days=1), [video(OLD, 5), video(NEW, 6)])
    take(store, now.date(), [video(OLD, 50)])  # the newest: NEW fell out of its recent videos
    posts: list[dict[str, Any]] = [
        {"id": "a", "open_id": OPEN_ID, "post_ids": [OLD]},
        {"id": "b", "open_id": OPEN_ID, "post_ids": [NEW]},
        {"id": "c", "open_id": OPEN_ID, "post_ids": []},
        {"id": "d", "open_id": "-other", "post_ids": [OLD]},  # another account's snapshots
    ]
    with_metrics(store, UID, posts, now)
    assert posts[0]["metrics"] == [
        {
            "id": OLD,
            "date": "2026-12-01",
            "view_count": 50,
            "like_count": 2,
            "comment_count": 3,
            "share_count": 4,
        }
    ]
    assert [p["metrics"] for p in posts[1:]] == [[], [], []]
    with_metrics(store, "another-user", posts, now)  # only the user's own snapshots are read
    assert [p["metrics"] for p in posts] == [[], [], [], []]
