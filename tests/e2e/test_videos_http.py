"""The user's TikTok videos over HTTP: list with cursor paging, query, scopes, isolation (P12)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests.media_server import media_pieces
from tests.openapi import check_response
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser

pytestmark = pytest.mark.e2e

LIST = "/api/tiktok/accounts/{open_id}/videos"
QUERY = "/api/tiktok/accounts/{open_id}/videos/query"


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    user = fake_tiktok.create_user(display_name="Casey", username="casey")
    specs = [{"title": f"public {n}", "create_time": 1_700_000_000 + n * 60} for n in range(25)]
    specs += [{"title": "hidden", "privacy": "private", "create_time": 1_800_000_000}]
    fake_tiktok.control("POST", f"users/{user['open_id']}/videos", json={"videos": specs})
    return user


def test_public_videos_newest_first_with_cursor_paging_and_query(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    url = LIST.format(open_id=creator["open_id"])
    first = ann.get(url)
    assert first.status_code == 200, first.text
    check_response("GET", LIST, first)
    page = first.json()
    assert len(page["videos"]) == 20
    assert page["has_more"] is True
    second = ann.get(url, params={"cursor": page["next_cursor"]})
    check_response("GET", LIST, second)
    rest = second.json()
    assert (len(rest["videos"]), rest["has_more"], rest["next_cursor"]) == (5, False, None)
    videos = page["videos"] + rest["videos"]
    assert [v["title"] for v in videos] == [f"public {n}" for n in reversed(range(25))]
    assert all(isinstance(v["id"], str) and int(v["id"]) > 2**53 for v in videos)
    assert {"cover_image_url", "share_url", "view_count", "create_time"} <= set(videos[0])

    ids = [videos[0]["id"], videos[1]["id"], "12345"]  # the last is not the user's
    queried = ann.post(QUERY.format(open_id=creator["open_id"]), json={"ids": ids})
    assert queried.status_code == 200, queried.text
    check_response("POST", QUERY, queried)
    assert sorted(v["id"] for v in queried.json()["videos"]) == sorted(ids[:2])


@pytest.mark.parametrize("ids", [[], [str(n) for n in range(21)], ["abc"], "1"])
def test_a_query_names_1_to_20_video_ids(
    ann: httpx.Client, creator: dict[str, Any], ids: Any
) -> None:
    response = ann.post(QUERY.format(open_id=creator["open_id"]), json={"ids": ids})
    assert response.status_code == 400
    check_response("POST", QUERY, response)
    assert response.json()["error"]["reason"] == "request.ids"


def test_a_bad_cursor_is_refused(ann: httpx.Client, creator: dict[str, Any]) -> None:
    response = ann.get(LIST.format(open_id=creator["open_id"]), params={"cursor": "-1"})
    assert response.status_code == 400
    check_response("GET", LIST, response)


def test_an_account_without_video_list_scope_gets_a_clear_error(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> None:
    browser = new_browser(devserver, auth_emulator, "ann@example.com")
    granted = "user.info.basic,video.publish"
    connected = connect_account(browser, fake_tiktok, creator["open_id"], granted_scopes=granted)
    assert connected.status_code == 302
    calls = fake_tiktok.calls().get("video_list", 0)
    for response in (
        browser.get(LIST.format(open_id=creator["open_id"])),
        browser.post(QUERY.format(open_id=creator["open_id"]), json={"ids": ["1"]}),
    ):
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["reason"]) == ("FAILED_PRECONDITION", "account.scope_missing")
        assert "video.list" in error["message"]
    assert fake_tiktok.calls().get("video_list", 0) == calls


def test_users_cannot_list_or_query_each_others_videos(
    ann: httpx.Client, devserver: Stack, auth_emulator: AuthEmulator, creator: dict[str, Any]
) -> None:
    """P4 for the video routes."""
    bob = new_browser(devserver, auth_emulator, "bob@example.com")
    for response in (
        bob.get(LIST.format(open_id=creator["open_id"])),
        bob.post(QUERY.format(open_id=creator["open_id"]), json={"ids": ["1"]}),
    ):
        assert response.status_code == 404
        assert "public" not in response.text
    assert ann.get(LIST.format(open_id=creator["open_id"])).status_code == 200


def post_file_video(
    browser: httpx.Client, open_id: str, title: str, privacy: str
) -> dict[str, Any]:
    """Publish a small file video (one chunk) and wait until TikTok finishes it."""
    size = 1_000_000
    body = {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": size},
        "post": {"title": title, "privacy_level": privacy},
        "duration_sec": 8.0,
    }
    created = browser.post("/api/publish", json=body)
    assert created.status_code == 201, created.text
    post = created.json()["post"]
    chunk = browser.put(
        f"/api/publish/{post['id']}/chunks/0",
        content=b"".join(media_pieces("clip.mp4", 0, size - 1)),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert chunk.status_code == 200, chunk.text
    deadline = time.monotonic() + 20
    while True:
        status = browser.get(f"/api/publish/{post['id']}/status").json()["post"]
        # A public post's id comes with its own event, which may follow the completion.
        public = privacy == "PUBLIC_TO_EVERYONE"
        if status["status"] == "PUBLISH_COMPLETE" and (status["post_ids"] or not public):
            found: dict[str, Any] = status
            return found
        assert time.monotonic() < deadline, status
        time.sleep(0.3)


def test_a_video_posted_publicly_appears_in_the_list_and_the_query(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    """What a frontend developer checks after posting: the new video is on the account."""
    open_id = creator["open_id"]
    public = post_file_video(ann, open_id, "fresh from the app #local", "PUBLIC_TO_EVERYONE")
    private = post_file_video(ann, open_id, "only me", "SELF_ONLY")
    assert len(public["post_ids"]) == 1
    assert private["post_ids"] == []

    listed = ann.get(LIST.format(open_id=open_id))
    assert listed.status_code == 200, listed.text
    newest = listed.json()["videos"][0]
    assert newest["id"] == public["post_ids"][0]
    assert newest["title"] == "fresh from the app #local"
    assert abs(newest["create_time"] - time.time()) < 120
    titles = [v["title"] for v in listed.json()["videos"]]
    assert "only me" not in titles

    queried = ann.post(QUERY.format(open_id=open_id), json={"ids": public["post_ids"]})
    assert queried.status_code == 200, queried.text
    assert [v["id"] for v in queried.json()["videos"]] == public["post_ids"]
