"""Analytics days for the e2e and browser tests, taken through the real snapshot code against the
fake TikTok: one snapshot per day back from today, the fake's audience advanced a day between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import runtime
from shared.analytics.snapshot import Outcome, take_snapshot
from tests.support import FakeTikTok


def seed_days(fake: FakeTikTok, uid: str, open_id: str, days: int) -> list[str]:
    """Replace the connect's snapshot of ``uid``'s account by ``days`` daily ones ending today;
    their dates."""
    snapshotter = runtime.snapshotter()
    snapshotter.analytics.delete_all(uid, open_id)
    # The connect's snapshot claimed today for a few minutes; this stands for them having passed.
    db = runtime.firestore_client()
    db.collection("users", uid, "poll_budgets").document(f"{open_id}.display").delete()
    account = snapshotter.accounts.get(uid, open_id)
    assert account is not None
    today = datetime.now(UTC)
    dates: list[str] = []
    for back in reversed(range(days)):
        if dates:
            fake.control("POST", "advance_day", json={"days": 1})
        now = today - timedelta(days=back)
        assert take_snapshot(snapshotter, account, now=now).outcome is Outcome.TAKEN
        dates.append(now.date().isoformat())
    return dates
