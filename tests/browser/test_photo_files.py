"""A photo post from files on the post page, with the keyboard alone: five files chosen at once,
each staged through ``POST /api/media`` straight to fake-gcs-server with its own progress bar,
the two that break a rule refused on their own tiles in the API's words, removed, the rest
reordered and a cover chosen; the post completes and the fake TikTok pulled exactly those bytes
from ``/media/`` in the order shown. axe-core finds nothing serious on the way."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.conftest import Web, make_creator
from tests.browser.pages import assert_accessible, open_post_page, publish_bodies
from tests.browser.test_keyboard import tab_to


def photo(path: Path, size: tuple[int, int], seed: int) -> Path:
    """A real JPEG with a camera's kind of entropy (noise over a colour), so it is not tiny."""
    rng = random.Random(seed)
    base = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    noise = Image.frombytes(
        "RGB", (size[0] // 4, size[1] // 4), os.urandom(size[0] * size[1] * 3 // 16)
    )
    base = Image.blend(base, noise.resize(size), 0.3)
    out = io.BytesIO()
    base.save(out, "JPEG", quality=88)
    path.write_bytes(out.getvalue())
    return path


def tab_until(page: Page, target: Locator, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus (and shows it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", "the focused control shows no focus"
            return
    raise AssertionError(f"Tab never reached {target}")


def tiles(page: Page) -> Locator:
    group = page.get_by_role("group", name="Your photos, in the order TikTok will show them")
    return group.get_by_role("listitem")


def tile(page: Page, n: int, name: str) -> Locator:
    return tiles(page).and_(page.get_by_role("listitem", name=f"Photo {n} {name}"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_photo_post_from_files_with_the_keyboard(web: Web, tmp_path: Path) -> None:
    creator: dict[str, Any] = make_creator(web)
    web.fake.control(
        "POST",
        "config",
        json={
            "verified_url_prefixes": [web.assets.base + "/", f"{web.base}/media/"],
            "processing_seconds": 2,
        },
    )
    page = web.page
    harbour = photo(tmp_path / "harbour.jpg", (1080, 1350), 1)
    market = photo(tmp_path / "market.jpg", (1080, 1080), 2)
    sunset = photo(tmp_path / "sunset.jpg", (1920, 1080), 3)
    too_big = photo(tmp_path / "panorama.jpg", (2400, 1600), 4)  # past 1080p: refused on complete
    gif = tmp_path / "sticker.gif"  # not a type TikTok takes: refused when the slot is asked for
    Image.new("RGB", (200, 200), (9, 9, 9)).save(gif, "GIF")

    # The first upload is held at the bucket, so its progress bar is seen before it finishes.
    held: list[Route] = []
    page.route(
        f"{web.stack.gcs_url}/upload/**",
        lambda route: held.append(route) if not held else route.continue_(),
    )

    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    page.locator(".creator-name").click()
    tab_to(page, "kind-video")
    page.keyboard.press("ArrowDown")  # to "Photos" in the same radio group
    expect(page.get_by_label("Photos", exact=True)).to_be_checked()
    tab_to(page, "photo-source-file")
    expect(page.get_by_label("Files from this device")).to_be_checked()
    tab_to(page, "photo-files")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files([str(p) for p in (harbour, market, sunset, too_big, gif)])

    expect(tiles(page)).to_have_count(5)
    while not held:
        page.wait_for_timeout(50)
    uploading = page.get_by_role("progressbar", name=re.compile(r"^Upload of photo [1-4]$"))
    expect(uploading.first).to_be_visible()
    held[0].continue_()

    refused_size = tile(page, 4, "panorama.jpg")
    expect(refused_size.get_by_role("alert")).to_have_text(
        "This photo is 2400x1600 px; TikTok takes photos of at most 1080p "
        "(1920x1080 px, either orientation)."
    )
    refused_type = tile(page, 5, "sticker.gif")
    expect(refused_type.get_by_role("alert")).to_have_text(
        "TikTok takes photos as image/jpeg or image/webp (image/png, image/heic, image/heif are "
        "converted to JPEG); content_type 'image/gif' is not."
    )
    for n, name in ((1, "harbour.jpg"), (2, "market.jpg"), (3, "sunset.jpg")):
        expect(tile(page, n, name)).to_contain_text("Ready")
    expect(page.get_by_text("Remove the 2 photos that cannot be posted")).to_be_visible()
    assert_accessible(page)

    # Remove the two refused photos: focus goes to the neighbour's Remove button.
    tab_until(page, page.get_by_role("button", name="Remove photo 5"))
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Remove photo 4")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Remove photo 3")
    expect(tiles(page)).to_have_count(3)

    # Sunset to the front: the focus moves with the photo.
    page.keyboard.press("Shift+Tab")
    expect(page.locator(":focus")).to_have_attribute("aria-disabled", "true")  # the last: no later
    page.keyboard.press("Shift+Tab")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Move photo 3 earlier")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Move photo 2 earlier")
    page.keyboard.press("Enter")
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Move photo 1 earlier")
    page.keyboard.press("Enter")  # the first already: nothing moves
    expect(page.get_by_role("status").filter(has_text="moved to position 1")).to_have_count(1)
    for n, name in ((1, "sunset.jpg"), (2, "harbour.jpg"), (3, "market.jpg")):
        expect(tile(page, n, name)).to_be_visible()

    # The cover: the first photo until one is chosen; choose market (photo 3).
    expect(page.get_by_role("radio", name="Cover (photo 1)")).to_be_checked()
    tab_until(page, page.get_by_role("radio", name="Cover (photo 1)"))  # the group's one tab stop
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="Cover (photo 3)")).to_be_checked()
    assert_accessible(page)

    tab_to(page, "title")
    page.keyboard.type("Three from the harbour walk")
    tab_to(page, "privacy")
    page.keyboard.press("ArrowDown")
    tab_to(page, "BUTTON:Post")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)

    sent = publish_bodies(web.api_calls)[0]["media"]
    assert sent["type"] == "photo"
    assert len(sent["media_ids"]) == 3
    assert sent["cover_index"] == 2
    publish = web.fake.control("GET", "publishes")["publishes"][0]
    at_tiktok = web.fake.control("GET", f"publishes/{publish['publish_id']}")
    assert at_tiktok["source_info"]["photo_cover_index"] == 2
    pulled = at_tiktok["downloads"]
    assert [d["sha256"] for d in pulled] == [sha(sunset), sha(harbour), sha(market)]
    assert [d["bytes"] for d in pulled] == [p.stat().st_size for p in (sunset, harbour, market)]
    # One slot asked for per file (the GIF's refused), a completion for each of the other four.
    assert len(web.calls("POST", "/api/media")) == 5 + 4


def test_a_png_screenshot_is_converted_and_the_tile_says_so(web: Web, tmp_path: Path) -> None:
    creator: dict[str, Any] = make_creator(web)
    screenshot = tmp_path / "screenshot.png"
    Image.new("RGBA", (1170, 2532), (240, 240, 250, 255)).save(screenshot, "PNG")
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    page.get_by_label("Photos", exact=True).check()
    page.get_by_label("Photo files").set_input_files(str(screenshot))
    expect(tile(page, 1, "screenshot.png")).to_contain_text(
        "Ready. Converted from PNG to JPEG, resized from 1170x2532 to 887x1920 px."
    )
    expect(page.get_by_role("radio", name="Cover")).to_be_checked()
    assert_accessible(page)
