"""Analytics days for the browser tests (tests/analytics_days.py, for the signed-in page's user)."""

from __future__ import annotations

from shared import runtime
from tests import analytics_days
from tests.browser.conftest import Web


def uid_of(web: Web) -> str:
    response = web.page.request.get(web.base + "/api/session")
    assert response.status == 200, response.text()
    uid: str = response.json()["user"]["uid"]
    return uid


def seed_days(web: Web, open_id: str, days: int) -> list[str]:
    """Replace the connect's snapshot by ``days`` daily ones ending today; their dates."""
    return analytics_days.seed_days(web.fake, uid_of(web), open_id, days)


def snapshot_count(web: Web, open_id: str) -> int:
    db = runtime.firestore_client()
    ref = db.collection("users", uid_of(web), "accounts", open_id, "analytics")
    return len(list(ref.stream()))
