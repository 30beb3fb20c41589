"""The whole journey in the browser, as a creator makes it: sign in with Google, connect TikTok
through its consent page, post a 40 MB video (a real multi-chunk upload), a photo post and an
inbox draft, follow each to its final status, read the history and the videos, export the data,
disconnect, and delete the account."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Web
from tests.browser.media import padded_video, sha256_file
from tests.browser.pages import choose_privacy, choose_video_file, publish_bodies

SIZE = 40_000_000  # 4 chunks of 10 MB at the test stack's PUBLISH_CHUNK_LIMIT_BYTES.

PROGRESS_RECORDER = """
window.__progress = [];
new MutationObserver(() => {
  const bar = document.querySelector('#upload-progress');
  if (bar) {
    window.__progress.push([Number(bar.getAttribute('value')), Number(bar.getAttribute('max'))]);
  }
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['value', 'max']});
"""


def test_the_whole_journey(web: Web, creator: dict[str, Any], tmp_path: Path) -> None:
    page = web.page
    page.add_init_script(PROGRESS_RECORDER)
    web.fake.control(
        "POST",
        f"users/{creator['open_id']}/videos",
        json={
            "videos": [
                {"title": f"Clip {n}", "cover_image_url": web.assets.url("cover.jpg")}
                for n in range(23)
            ]
        },
    )

    # Sign in with Google (the Auth emulator's popup) and connect through TikTok's consent page.
    web.sign_in(email="ann@example.com", name="Ann Creator")
    expect(page.get_by_role("banner")).to_contain_text("Ann Creator")
    expect(page.get_by_text("No TikTok account is connected yet.")).to_be_visible()
    web.connect(creator["username"])
    card = page.get_by_role("listitem").filter(has_text="@casey.creates")
    expect(card).to_contain_text("Casey Creator")
    expect(card).to_contain_text("Connected")
    expect(card.locator(".stats")).to_contain_text("Followers")
    expect(card.locator(".stats")).to_contain_text("13K")

    # A 40 MB video from the device: four chunks, the bar reaching 100 %, then PUBLISH_COMPLETE.
    video = padded_video(tmp_path / "holiday.mp4", SIZE)
    page.get_by_role("link", name="Post to @casey.creates").click()
    expect(page.get_by_text("Posting to")).to_be_visible()
    choose_video_file(page, video)
    page.get_by_label("Title").fill("Holiday highlights #summer")
    choose_privacy(page, "Everyone")
    page.get_by_label("Allow comments").check()
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", name="Uploading to TikTok")).to_be_visible()
    expect(page.get_by_text("Upload complete.")).to_be_visible(timeout=60000)
    expect(page.locator(".progress-text")).to_have_text("100 % · 40.0 MB of 40.0 MB")
    expect(page.get_by_role("heading", name="Post status")).to_be_visible()
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)
    expect(page.get_by_role("link", name="View on TikTok (@casey.creates)")).to_have_attribute(
        "href", f"https://www.tiktok.com/@casey.creates/video/{first_post_id(web)}"
    )
    samples = page.evaluate("window.__progress")
    values = [value for value, top in samples if top == SIZE]
    assert values == sorted(values), "the bar never goes back"
    assert values[-1] == SIZE
    assert len(set(values)) >= 4
    chunk_puts = [c["path"] for c in web.calls("PUT", "/api/publish/")]
    post_id = chunk_puts[0].split("/")[3]
    assert chunk_puts == [f"/api/publish/{post_id}/chunks/{n}" for n in range(4)]
    video_publish = web.fake.control("GET", "publishes")["publishes"][0]
    assert video_publish["chunks_received"] == 4
    assert video_publish["received_bytes"] == SIZE
    assert video_publish["sha256"] == sha256_file(video)
    assert video_publish["status"] == "PUBLISH_COMPLETE"

    # A photo post, by URL.
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Photos").check()
    page.get_by_label("URLs on your verified domain").check()
    page.get_by_label("Photo URLs, one per line").fill(
        web.assets.url("photo1.jpg") + "\n" + web.assets.url("photo2.jpg")
    )
    page.get_by_label("Cover photo").select_option(label="Photo 2")
    page.get_by_label("Title").fill("Two frames")
    page.get_by_label("Description").fill("Behind the scenes of the shoot.")
    choose_privacy(page, "Followers" if creator.get("private_account") else "Everyone")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)

    # An inbox draft: a video URL, finished by the creator in TikTok.
    page.get_by_role("link", name="New post").click()
    page.get_by_label("Send to my TikTok inbox as a draft").check()
    expect(page.get_by_label("Privacy")).to_have_count(0)
    page.get_by_label("A URL on your verified domain").check()
    page.get_by_label("Video URL").fill(web.assets.url("clip.mp4"))
    page.get_by_role("button", name="Check video").click()
    expect(page.get_by_text("Length: 4 seconds")).to_be_visible()
    page.get_by_role("button", name="Send to inbox").click()
    expect(page.get_by_text("Sent to your TikTok inbox")).to_be_visible(timeout=30000)

    bodies = publish_bodies(web.api_calls)
    assert [b["mode"] for b in bodies] == ["direct", "direct", "inbox"]
    assert bodies[1]["media"]["cover_index"] == 1
    assert bodies[2]["media"] == {
        "type": "video",
        "source": "url",
        "url": web.assets.url("clip.mp4"),
    }
    assert bodies[2]["post"] == {}
    kinds = [(p["kind"], p["mode"]) for p in web.fake.control("GET", "publishes")["publishes"]]
    assert sorted(kinds) == sorted(
        [("video", "DIRECT_POST"), ("photo", "DIRECT_POST"), ("video", "MEDIA_UPLOAD")]
    )

    # History, newest first; each row links to its status.
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    rows = page.get_by_role("list", name="Posts, newest first").get_by_role("listitem")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Sent to your TikTok inbox")
    expect(rows.nth(1)).to_contain_text("Two frames")
    expect(rows.nth(2)).to_contain_text("Holiday highlights #summer")
    rows.nth(2).get_by_role("link", name="Status").click()
    expect(page.get_by_text("Holiday highlights #summer")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Post history")).to_be_visible()

    # Videos, paged (20 a page): the 23 seeded ones and, newest, the video just posted to
    # everyone (TikTok lists only public posts; the photo post is not a video).
    page.get_by_role("navigation").get_by_role("link", name="Videos").click()
    tiles = page.get_by_role("list").locator("li.video")
    expect(tiles).to_have_count(20)
    expect(tiles.first).to_contain_text("Holiday highlights #summer")
    page.get_by_role("button", name="Show more videos").click()
    expect(tiles).to_have_count(24)
    expect(page.get_by_role("button", name="Show more videos")).to_have_count(0)

    # Export, as JSON and as CSV files in a zip.
    page.get_by_role("link", name="My data").click()
    with page.expect_download() as json_download:
        page.get_by_role("button", name="Download as JSON").click()
    exported = json.loads(Path(json_download.value.path()).read_text())
    assert len(exported["collections"]["posts"]) == 3
    assert "access_token" not in json.dumps(exported)
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Download as CSV (zip)").click()
    names = zipfile.ZipFile(io.BytesIO(Path(csv_download.value.path()).read_bytes())).namelist()
    assert any(name.startswith("posts") for name in names)

    # Disconnect, confirming what is deleted; TikTok is told.
    page.get_by_role("link", name="Accounts").click()
    page.get_by_role("button", name="Disconnect @casey.creates").click()
    dialog = page.get_by_role("dialog", name="Disconnect @casey.creates?")
    expect(dialog).to_contain_text("access tokens")
    dialog.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("TikTok revoked this app's access")).to_be_visible()
    expect(page.get_by_text("No TikTok account is connected yet.")).to_be_visible()
    assert [a["revoked"] for a in web.fake.authorizations(creator["open_id"])] == [True]

    # Delete the account: typed confirmation, then signed out.
    page.get_by_role("link", name="My data").click()
    delete = page.get_by_role("button", name="Delete my account and data")
    expect(delete).to_be_disabled()
    page.get_by_label("Type delete my account to confirm").fill("delete my account")
    delete.click()
    expect(
        page.get_by_text("Your account and everything stored about it were deleted")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()
    session = page.request.get(web.base + "/api/session")
    assert session.status == 401
    page.go_back()
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()


def first_post_id(web: Web) -> str:
    publish = web.fake.control("GET", "publishes")["publishes"][0]
    return str(publish["post_ids"][0])
