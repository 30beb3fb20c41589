"""A published post links to its video: ``post_ids`` (TikTok's ``publicaly_available_post_id``,
above 2**53) stay strings through the stored post, ``GET /api/posts``, the JSON export and the
CSV export, and the history answers each post's current metrics from the account's newest
analytics snapshot, for the signed-in user's own posts only (P4).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from shared import runtime
from shared.analytics.snapshot import Outcome, take_snapshot
from tests.e2e.test_status_http import at_tiktok, owner, publish, stored, wait_for
from tests.media_server import MediaServer
from tests.openapi import check_response
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok, media: MediaServer) -> dict[str, Any]:
    fake_tiktok.control(
        "POST",
        "config",
        json={"verified_url_prefixes": [media.base + "/media/"], "processing_seconds": 0.2},
    )
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def snapshot_now(ann: httpx.Client, open_id: str) -> None:
    """Today's snapshot retaken (the connect's came before the post was public)."""
    uid = ann.get("/api/session").json()["user"]["uid"]
    snapshotter = runtime.snapshotter()
    snapshotter.analytics.delete_all(uid, open_id)
    db = runtime.firestore_client()  # the connect's snapshot claimed the day for a few minutes
    db.collection("users", uid, "poll_budgets").document(f"{open_id}.display").delete()
    account = snapshotter.accounts.get(uid, open_id)
    assert account is not None
    result = take_snapshot(snapshotter, account, now=datetime.now(UTC))
    assert result.outcome is Outcome.TAKEN


def history_post(ann: httpx.Client, post_id: str) -> tuple[dict[str, Any], str]:
    response = ann.get("/api/posts")
    assert response.status_code == 200, response.text
    check_response("GET", "/api/posts", response)
    found = [p for p in response.json()["posts"] if p["id"] == post_id]
    assert len(found) == 1
    return found[0], response.text


def test_history_shows_a_published_posts_video_id_and_current_metrics(
    ann: httpx.Client,
    bob: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, Any],
    media: MediaServer,
) -> None:
    open_id = creator["open_id"]
    post = publish(ann, open_id, media)
    doc = wait_for(lambda: (d := stored(owner(ann, post)))["post_ids"] and d)
    video_ids = at_tiktok(fake_tiktok, post["publish_id"])["post_ids"]
    assert doc["post_ids"] == video_ids
    assert all(isinstance(v, str) for v in video_ids)
    assert int(video_ids[0]) > 2**53

    before, _ = history_post(ann, post["id"])
    assert before["post_ids"] == video_ids
    assert before["metrics"] == []  # no snapshot has the video yet

    fake_tiktok.control("POST", "advance_day", json={"days": 3})  # the video gains an audience
    snapshot_now(ann, open_id)
    at_fake = {v["id"]: v for v in fake_tiktok.control("GET", f"users/{open_id}/videos")["videos"]}
    video = at_fake[video_ids[0]]
    assert video["view_count"] > 0

    shown, raw = history_post(ann, post["id"])
    today = datetime.now(UTC).date().isoformat()
    assert shown["metrics"] == [
        {
            "id": video_ids[0],
            "date": today,
            "view_count": video["view_count"],
            "like_count": video["like_count"],
            "comment_count": video["comment_count"],
            "share_count": video["share_count"],
        }
    ]
    assert re.search(rf'"id":\s*"{video_ids[0]}"', raw)  # quoted, digit for digit
    assert re.search(rf'"post_ids":\s*\["{video_ids[0]}"\]', raw)

    assert bob.get("/api/posts").json()["posts"] == []  # P4: another user sees nothing

    # Collection turned off: its snapshots are gone, so are the metrics; the link stays.
    off = ann.patch(f"/api/tiktok/accounts/{open_id}", json={"analytics_enabled": False})
    assert off.status_code == 200, off.text
    after, _ = history_post(ann, post["id"])
    assert after["metrics"] == []
    assert after["post_ids"] == video_ids


def test_post_ids_stay_strings_in_both_exports(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, Any], media: MediaServer
) -> None:
    post = publish(ann, creator["open_id"], media)
    wait_for(lambda: stored(owner(ann, post))["post_ids"])
    video_ids = at_tiktok(fake_tiktok, post["publish_id"])["post_ids"]

    exported = ann.get("/api/me/export")
    assert exported.status_code == 200
    records = {r["id"]: r for r in exported.json()["collections"]["posts"]}
    assert records[post["id"]]["post_ids"] == video_ids
    assert re.search(rf'"post_ids":\s*\["{video_ids[0]}"\]', exported.text)

    archive = zipfile.ZipFile(io.BytesIO(ann.get("/api/me/export/csv").content))
    rows = list(csv.DictReader(io.TextIOWrapper(archive.open("posts.csv"), "utf-8")))
    row = next(r for r in rows if r["id"] == post["id"])
    assert row["post_ids"] == json.dumps(video_ids)  # a JSON list of strings, never numbers
    assert json.loads(row["post_ids"]) == video_ids
