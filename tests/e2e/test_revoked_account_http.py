"""An account TikTok revoked (``authorization.removed``) has nothing left to revoke (real HTTP).

Its tokens were deleted when the webhook came, so disconnecting it or deleting the user's data
does not call TikTok's revoke (nor fail trying to decrypt a token that is gone), and the answer
says ``tiktok_revoked: "not_needed"`` for it.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.openapi import check_response
from tests.support import FakeTikTok, connect_account

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def removed_at_tiktok(browser: httpx.Client, fake: FakeTikTok, open_id: str) -> None:
    """The user removes the app in TikTok; its signed webhook reaches us and is applied."""
    fake.control("POST", f"users/{open_id}/deauthorize", json={"reason": 1})
    deadline = time.monotonic() + 15
    while status(browser, open_id) != "revoked":
        assert time.monotonic() < deadline, "the authorization.removed webhook was not applied"
        time.sleep(0.1)


def status(browser: httpx.Client, open_id: str) -> str:
    accounts = browser.get("/api/tiktok/accounts").json()["accounts"]
    return str(next(a["status"] for a in accounts if a["open_id"] == open_id))


def revoke_calls(fake: FakeTikTok) -> int:
    return fake.calls().get("revoke", 0)


def test_disconnecting_an_account_tiktok_revoked_says_no_revoke_was_needed(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    open_id = str(creator["open_id"])
    removed_at_tiktok(ann, fake_tiktok, open_id)

    gone = ann.delete(f"/api/tiktok/accounts/{open_id}")

    assert gone.status_code == 200, gone.text
    check_response("DELETE", "/api/tiktok/accounts/{open_id}", gone)
    assert gone.json() == {
        "disconnected": open_id,
        "revoked_at_tiktok": False,
        "tiktok_revoked": "not_needed",
        "cancelled_scheduled": 0,
    }
    assert revoke_calls(fake_tiktok) == 0
    assert ann.get("/api/tiktok/accounts").json() == {"accounts": []}


def test_deleting_the_user_reports_each_account_and_revokes_only_live_ones(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    revoked_id = str(creator["open_id"])
    live_id = str(fake_tiktok.create_user(display_name="Second", username="second")["open_id"])
    assert connect_account(ann, fake_tiktok, live_id).status_code == 302
    removed_at_tiktok(ann, fake_tiktok, revoked_id)

    response = ann.delete("/api/me")

    assert response.status_code == 200, response.text
    check_response("DELETE", "/api/me", response)
    body = response.json()
    assert (body["revoked_connections"], body["revoke_failed"]) == (1, 0)
    assert sorted(body["accounts"], key=lambda a: a["open_id"] != revoked_id) == [
        {"open_id": revoked_id, "tiktok_revoked": "not_needed"},
        {"open_id": live_id, "tiktok_revoked": "revoked"},
    ]
    assert revoke_calls(fake_tiktok) == 1  # the live one only
    assert all(a["revoked"] for a in fake_tiktok.authorizations(live_id))
