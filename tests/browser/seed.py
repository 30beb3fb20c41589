"""Analytics days for the browser tests, taken through the real snapshot code against the fake
TikTok: one snapshot per day back from today, the fake's audience advanced a day between each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import runtime
from shared.analytics.snapshot import Outcome, take_snapshot
from tests.browser.conftest import Web


def uid_of(web: Web) -> str:
    response = web.page.request.get(web.base + "/api/session")
    assert response.status == 200, response.text()
    uid: str = response.json()["user"]["uid"]
    return uid


def seed_days(web: Web, open_id: str, days: int) -> list[str]:
    """Replace the connect's snapshot by ``days`` daily ones ending today; their dates."""
    uid = uid_of(web)
    snapshotter = runtime.snapshotter()
    snapshotter.analytics.delete_all(uid, open_id)
    # The connect's snapshot claimed today for a few minutes; this stands for them having passed.
    db = runtime.firestore_client()
    db.collection("users", uid, "poll_budgets").document(f"{open_id}.display").delete()
    account = snapshotter.accounts.get(uid, open_id)
    assert account is not None
    today = datetime.now(UTC)
    dates = []
    for back in reversed(range(days)):
        if dates:
            web.fake.control("POST", "advance_day", json={"days": 1})
        now = today - timedelta(days=back)
        assert take_snapshot(snapshotter, account, now=now).outcome is Outcome.TAKEN
        dates.append(now.date().isoformat())
    return dates


def snapshot_count(web: Web, open_id: str) -> int:
    db = runtime.firestore_client()
    ref = db.collection("users", uid_of(web), "accounts", open_id, "analytics")
    return len(list(ref.stream()))
