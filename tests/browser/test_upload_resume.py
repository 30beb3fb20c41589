"""The upload resumes where TikTok stopped: after a dropped connection (the chunk lost on the way,
or its answer lost on the way back), after a chunk sent out of order (409), and after a reload
(the user picks the same file again). The fake TikTok must hold exactly the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Web
from tests.browser.media import padded_video, sha256_file
from tests.browser.pages import choose_privacy, choose_video_file, open_post_page

SIZE = 40_000_000


def start_post(web: Web, creator: dict[str, Any], video: Path) -> Page:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    choose_video_file(page, video)
    choose_privacy(page, "Only me")
    page.get_by_role("button", name="Post", exact=True).click()
    return page


def assert_tiktok_has_exactly(web: Web, video: Path) -> None:
    publish = web.fake.control("GET", "publishes")["publishes"][0]
    assert publish["received_bytes"] == SIZE
    assert publish["chunks_received"] == 4
    assert publish["sha256"] == sha256_file(video)


def chunk_numbers(web: Web) -> list[int]:
    return [int(c["path"].rsplit("/", 1)[1]) for c in web.calls("PUT", "/api/publish/")]


@pytest.mark.parametrize("lost", ["request", "answer"])
def test_a_dropped_connection_resumes_at_the_right_chunk(
    web: Web, creator: dict[str, Any], tmp_path: Path, lost: str
) -> None:
    video = padded_video(tmp_path / "long.mp4", SIZE)
    dropped: list[str] = []

    def drop_once(route: Route) -> None:
        if dropped:
            route.continue_()
            return
        dropped.append(route.request.url)
        if lost == "answer":
            route.fetch()  # The server relays chunk 2 to TikTok; its answer never arrives.
        route.abort("connectionreset")

    web.page.route("**/api/publish/*/chunks/2", drop_once)
    page = start_post(web, creator, video)
    expect(page.get_by_text("Upload complete.")).to_be_visible(timeout=60000)
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)
    assert len(dropped) == 1
    # After the drop the page asked the server where to go on: chunk 2 again if it never
    # arrived, chunk 3 if TikTok already had it.
    assert chunk_numbers(web) == ([0, 1, 2, 2, 3] if lost == "request" else [0, 1, 2, 3])
    assert_tiktok_has_exactly(web, video)


def test_a_chunk_sent_out_of_order_is_answered_409_and_the_upload_goes_on(
    web: Web, creator: dict[str, Any], tmp_path: Path
) -> None:
    video = padded_video(tmp_path / "order.mp4", SIZE)
    answers: list[int] = []

    def skip_ahead(route: Route) -> None:
        if answers:
            route.continue_()
            return
        wrong = route.request.url.replace("/chunks/1", "/chunks/2")
        response = route.fetch(url=wrong)
        answers.append(response.status)
        route.fulfill(response=response)

    web.page.route("**/api/publish/*/chunks/1", skip_ahead)
    page = start_post(web, creator, video)
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=60000)
    assert answers == [409]
    assert_tiktok_has_exactly(web, video)


def test_after_a_reload_the_same_file_resumes_the_upload(
    web: Web, creator: dict[str, Any], tmp_path: Path
) -> None:
    video = padded_video(tmp_path / "reload.mp4", SIZE)
    other = padded_video(tmp_path / "other.mp4", SIZE - 1000)
    held: list[Route] = []
    web.page.route("**/api/publish/*/chunks/2", lambda route: held.append(route))
    page = start_post(web, creator, video)
    while not held:
        page.wait_for_timeout(50)
    assert page.url.endswith("/upload")
    held[0].abort("connectionreset")  # Chunk 2 never reaches the server...
    page.unroute("**/api/publish/*/chunks/2")
    page.reload()  # ...and the page is reloaded before it retries.

    expect(page.get_by_role("heading", name="Uploading to TikTok")).to_be_visible()
    expect(page.get_by_text("Choose the same file (reload.mp4)")).to_be_visible()
    expect(page.locator(".progress-text")).to_have_text("50 % · 20.0 MB of 40.0 MB")
    page.get_by_label("The same video file").set_input_files(str(other))
    expect(page.get_by_role("alert")).to_contain_text("Choose the same file.")
    page.get_by_label("The same video file").set_input_files(str(video))
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=60000)
    assert chunk_numbers(web)[-2:] == [2, 3]
    assert_tiktok_has_exactly(web, video)


def test_cancel_abandons_the_upload(web: Web, creator: dict[str, Any], tmp_path: Path) -> None:
    """Cancel mid-upload: ``DELETE /api/publish/{id}``, the backend fails the post as abandoned
    and tells TikTok, the page says so in words, and no chunk follows."""
    video = padded_video(tmp_path / "cancel.mp4", SIZE)
    held: list[Route] = []
    web.page.route("**/api/publish/*/chunks/1", lambda route: held.append(route))
    page = start_post(web, creator, video)
    while not held:
        page.wait_for_timeout(50)
    assert page.evaluate("localStorage.getItem('publisher.uploads')") != "[]"
    page.get_by_role("button", name="Cancel upload").click()
    expect(page.get_by_role("heading", name="Post status")).to_be_visible()
    post_id = page.url.rsplit("/", 1)[1]
    assert web.calls("DELETE", "/api/publish/") == [
        {"method": "DELETE", "path": f"/api/publish/{post_id}", "body": None}
    ]
    expect(
        page.get_by_text("The upload was cancelled before TikTok received the whole file.")
    ).to_be_visible()
    stored = page.request.get(f"{web.base}/api/publish/{post_id}/status").json()["post"]
    assert (stored["status"], stored["fail_reason"]) == ("FAILED", "upload_abandoned")
    assert web.fake.control("GET", "calls")["counts"].get("cancel") == 1
    assert page.evaluate("localStorage.getItem('publisher.uploads')") == "[]"
    page.wait_for_timeout(1000)
    assert chunk_numbers(web) == [0, 1]
