"""``GET /api/posts`` filtered by status and account, over real HTTP (promises P4, P7).

Ann has posts on two TikTok accounts in different statuses; each filter, alone and combined,
returns exactly the matching posts, newest first and paged; a status that does not exist is a
clear 400; Bob filtering by Ann's account sees nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared import runtime
from shared.status.poll import list_posts
from tests.e2e.test_publish_http import video_file
from tests.openapi import check_response
from tests.support import FakeTikTok, connect_account

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    return fake_tiktok.create_user(display_name="Ida", username="ida")


def publish(browser: httpx.Client, open_id: str) -> str:
    response = browser.post("/api/publish", json=video_file(open_id, size=3_000_000))
    assert response.status_code == 201, response.text
    post_id: str = response.json()["post"]["id"]
    return post_id


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    check_response("GET", "/api/posts", response)
    return [p["id"] for p in response.json()["posts"]]


def test_history_filters_by_status_and_account(
    ann: httpx.Client, bob: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    other = fake_tiktok.create_user(display_name="Ida two", username="ida2")
    assert connect_account(ann, fake_tiktok, other["open_id"]).status_code == 302
    first, second = creator["open_id"], other["open_id"]
    a1, a2 = publish(ann, first), publish(ann, first)
    b1 = publish(ann, second)
    assert ann.delete(f"/api/publish/{a1}").status_code == 200  # FAILED: upload_abandoned
    assert ann.delete(f"/api/publish/{b1}").status_code == 200

    assert ids(ann.get("/api/posts")) == [b1, a2, a1]
    assert ids(ann.get("/api/posts", params={"status": "FAILED"})) == [b1, a1]
    assert ids(ann.get("/api/posts", params={"open_id": first})) == [a2, a1]
    both = {"open_id": first, "status": "PROCESSING_UPLOAD"}
    assert ids(ann.get("/api/posts", params=both)) == [a2]
    assert ids(ann.get("/api/posts", params={"status": "PUBLISH_COMPLETE"})) == []

    uid = ann.get("/api/session").json()["user"]["uid"]
    store = runtime.status_store()
    page = list_posts(store, uid=uid, cursor=None, status="FAILED", page_size=1)
    assert [p["id"] for p in page["posts"]] == [b1]
    rest = list_posts(store, uid=uid, cursor=page["next_cursor"], status="FAILED", page_size=1)
    assert [p["id"] for p in rest["posts"]] == [a1]
    paged = ann.get("/api/posts", params={"status": "FAILED", "cursor": page["next_cursor"]})
    assert ids(paged) == [a1]

    bad = ann.get("/api/posts", params={"status": "DONE"})
    assert bad.status_code == 400
    check_response("GET", "/api/posts", bad)
    assert bad.json()["error"]["reason"] == "request.status"
    assert "PUBLISH_COMPLETE" in bad.json()["error"]["message"]

    assert ids(bob.get("/api/posts", params={"open_id": first})) == []  # P4
