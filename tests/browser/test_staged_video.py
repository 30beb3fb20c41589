"""A video from the device staged before it is posted: the page uploads it straight to
fake-gcs-server through ``POST /api/media``'s resumable session, in pieces, with a progress
bar, and goes on from the last piece the session took after a lost connection; the server checks
it on ``/complete``; the post names it (``{"type": "video", "source": "staged", "media_id"}``)
and the fake TikTok pulls exactly those bytes from ``/media/``. Scheduling a device video stages
it (the chunk relay cannot wait for a time), and the due run sends it at its time. A file that
is not a video is refused in plain words on the page; one longer than the creator may post is
never uploaded."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Route, expect

from shared import runtime
from shared.publishing.due_run import run_due
from tests.browser.conftest import Web, make_creator
from tests.browser.media import FIXTURES, padded_video, sha256_file
from tests.browser.pages import (
    assert_accessible,
    choose_privacy,
    choose_video_file,
    open_post_page,
    publish_bodies,
)
from tests.browser.test_schedule import pick, scheduled_posts, wall

PIECE = 8 * 1024 * 1024  # web/src/staging.ts PIECE_BYTES


def verify_media_urls(web: Web) -> None:
    """The fake TikTok takes pulls from the app's own /media/ (as the operator verified it)."""
    prefixes = [web.assets.base + "/", f"{web.base}/media/"]
    web.fake.control(
        "POST", "config", json={"verified_url_prefixes": prefixes, "processing_seconds": 1}
    )


def stage_here(page: Page) -> None:
    page.get_by_label("Upload it here first").check()


def ready_text(page: Page) -> Any:
    return page.get_by_text("Uploaded and checked: ready to post or schedule.")


def media_slot(web: Web, media_id: str) -> tuple[int, dict[str, Any]]:
    response = web.page.request.get(f"{web.base}/api/media/{media_id}")
    return response.status, (response.json()["media"] if response.ok else {})


def test_a_device_video_is_staged_resumed_after_a_lost_connection_and_posted(
    web: Web, tmp_path: Path
) -> None:
    creator = make_creator(web)
    verify_media_urls(web)
    video = padded_video(tmp_path / "harbour-walk.mp4", 20_000_000)  # three pieces
    page = web.page

    # The bucket's side: the second piece's first try loses its connection; its second try is
    # held so the progress bar is seen part-way; everything else goes through.
    ranges: list[str] = []
    held: list[Route] = []

    def bucket(route: Route) -> None:
        ranges.append(route.request.headers.get("content-range", ""))
        if len(ranges) == 2:
            route.abort("connectionreset")
        elif len(ranges) == 3:
            held.append(route)
        else:
            route.continue_()

    page.route(f"{web.stack.gcs_url}/upload/**", bucket)

    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    choose_video_file(page, video)
    expect(page.get_by_label("Straight to TikTok when you press Post")).to_be_checked()
    assert web.calls("POST", "/api/media") == []  # nothing uploaded until staging is chosen
    stage_here(page)

    while not held:
        page.wait_for_timeout(50)
    bar = page.get_by_role("progressbar", name="Upload of the video")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-valuetext", re.compile(r"^(4[1-9]|[5-7]\d|8[0-3]) % "))
    expect(page.locator("#blockers")).to_contain_text("Wait for the video to finish uploading.")
    expect(page.get_by_role("button", name="Post", exact=True)).to_be_disabled()
    assert_accessible(page)
    held[0].continue_()
    expect(ready_text(page)).to_be_visible(timeout=30000)

    # Piece by piece, and the lost piece sent again from where the session stood, not from 0.
    size = video.stat().st_size
    second = f"bytes {PIECE}-{2 * PIECE - 1}/{size}"
    last = f"bytes {2 * PIECE}-{size - 1}/{size}"
    assert ranges == [f"bytes 0-{PIECE - 1}/{size}", second, second, last]

    page.get_by_label("Title").fill("Harbour walk, staged")
    choose_privacy(page, "Only me")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)

    (body,) = publish_bodies(web.calls("POST", "/api/publish"))
    media_id = body["media"]["media_id"]
    assert body["media"] == {"type": "video", "source": "staged", "media_id": media_id}
    assert web.calls("PUT", "/api/publish") == []  # not the chunk relay
    (publish,) = web.fake.control("GET", "publishes")["publishes"]
    at_tiktok = web.fake.control("GET", f"publishes/{publish['publish_id']}")
    assert at_tiktok["source_info"]["source"] == "PULL_FROM_URL"
    assert at_tiktok["source_info"]["video_url"].startswith(f"{web.base}/media/")
    (pulled,) = at_tiktok["downloads"]
    assert (pulled["bytes"], pulled["sha256"]) == (size, sha256_file(video))
    # The post is final: its staged object and slot are gone.
    for _ in range(50):
        if media_slot(web, media_id)[0] == 404:
            break
        page.wait_for_timeout(100)
    assert media_slot(web, media_id)[0] == 404


def test_scheduling_a_device_video_stages_it_and_it_is_sent_at_its_time(web: Web) -> None:
    creator = make_creator(web)
    verify_media_urls(web)
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    clip = FIXTURES / "clip.mp4"
    choose_video_file(page, clip)
    expect(page.get_by_text("it is uploaded to this app first")).to_be_visible()
    local = wall(1)
    pick(page, local)
    # Scheduling takes the staged way: the relay is not offered, and the upload starts.
    expect(page.get_by_label("Upload it here first")).to_be_checked()
    expect(page.get_by_label("Straight to TikTok when you press Post")).to_be_disabled()
    expect(page.get_by_text("Not when scheduling")).to_be_visible()
    expect(ready_text(page)).to_be_visible(timeout=30000)
    page.get_by_label("Title").fill("Market at noon, scheduled")
    choose_privacy(page, "Everyone")
    assert_accessible(page)
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Scheduled for")).to_contain_text("(America/New_York, GMT-")

    (body,) = publish_bodies(web.calls("POST", "/api/publish"))
    media_id = body["media"]["media_id"]
    assert body["media"] == {"type": "video", "source": "staged", "media_id": media_id}
    assert datetime.fromisoformat(body["schedule_at"]) == local
    (stored,) = scheduled_posts(web)
    status, slot = media_slot(web, media_id)
    assert (status, slot["state"], slot["post_id"]) == (200, "used", stored["id"])
    assert web.fake.calls().get("video_init", 0) == 0  # nothing at TikTok before its time

    page.get_by_role("navigation").get_by_role("link", name="Scheduled").click()
    row = page.get_by_role("list", name="Scheduled posts").get_by_role("listitem")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Market at noon, scheduled")
    expect(row.locator("time")).to_have_attribute("datetime", local.isoformat(timespec="seconds"))

    # Its time comes: the due run (what publish_scheduled runs) sends it; TikTok pulls the file.
    moment = local.astimezone(UTC) + timedelta(seconds=5)
    due = runtime.due("browser-test")
    due = dataclasses.replace(due, clock=lambda: moment, sleep=lambda seconds: None)

    class NoFanOut:
        def publish(self, topic: str, data: bytes) -> str:
            raise AssertionError("one account needs no fan-out")

    run_due(due, NoFanOut(), now=moment)
    page.goto(f"{web.base}/posts/{stored['id']}")
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)
    (publish,) = web.fake.control("GET", "publishes")["publishes"]
    at_tiktok = web.fake.control("GET", f"publishes/{publish['publish_id']}")
    (pulled,) = at_tiktok["downloads"]
    assert (pulled["bytes"], pulled["sha256"]) == (clip.stat().st_size, sha256_file(clip))
    assert at_tiktok["post_info"]["title"] == "Market at noon, scheduled"


def voice_memo(path: Path, seconds: float) -> Path:
    """A WAV recording saved under a video's name: the browser plays it, TikTok takes no audio."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * int(8000 * seconds))
    path.write_bytes(out.getvalue())
    return path


def test_a_file_that_is_not_a_video_is_refused_in_plain_words(web: Web, tmp_path: Path) -> None:
    creator = make_creator(web, max_video_post_duration_sec=3)
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    stage_here(page)

    # Longer than the creator may post: said at once, and nothing is uploaded.
    page.get_by_label("Video file").set_input_files(str(FIXTURES / "clip.mp4"))
    expect(page.locator("#video-duration")).to_contain_text("This video is 4 seconds long")
    page.wait_for_timeout(300)
    assert web.calls("POST", "/api/media") == []

    # Named like a video, read by the browser (2 s), but not one: the server's check refuses it.
    memo = voice_memo(tmp_path / "voice-memo.mp4", 2)
    page.get_by_label("Video file").set_input_files(str(memo))
    alert = page.locator("#video-stage").get_by_role("alert")
    expect(alert).to_contain_text(
        "voice-memo.mp4 is not a video TikTok takes. Choose an MP4, WebM or MOV file."
    )
    expect(alert).to_contain_text("media.video_type")
    choose_privacy(page, "Only me")
    expect(page.locator("#blockers")).to_contain_text("Choose another video")
    expect(page.get_by_role("button", name="Post", exact=True)).to_be_disabled()
    assert_accessible(page)
    (create, complete) = web.calls("POST", "/api/media")
    assert json.loads(create["body"]) == {
        "type": "video",
        "content_type": "video/mp4",
        "size": memo.stat().st_size,
    }
    assert complete["path"].endswith("/complete")
    assert web.calls("POST", "/api/publish") == []

    # Another file in its place: the refusal goes with the old one (and this one, too long for
    # the creator again, is not uploaded).
    page.get_by_label("Video file").set_input_files(str(FIXTURES / "clip.mp4"))
    expect(page.locator("#video-duration")).to_contain_text("This video is 4 seconds long")
    expect(page.locator("#video-stage")).to_have_count(0)
    assert len(web.calls("POST", "/api/media")) == 2
