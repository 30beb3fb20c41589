"""Keyboard only: the post page from the creator's nickname to Post with Tab, Space and Enter
(arrow keys inside the privacy drop-down), and the focus always visible."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Web
from tests.browser.media import FIXTURES
from tests.browser.pages import open_post_page, publish_bodies


def focused(page: Page) -> str:
    """The focused element's id, or its tag and text."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.id || (e.tagName + ':' + (e.textContent || '').trim()); }"
        )
    )


def tab_to(page: Page, target: str, limit: int = 40) -> None:
    """Press Tab until ``target`` (an id, or TAG:text) has the focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now)
        if now == target:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"{target} has no visible focus"
            return
    raise AssertionError(f"Tab never reached {target}: {seen}")


def test_the_post_page_works_with_the_keyboard_alone(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    open_post_page(page)
    expect(page.locator(".creator")).to_contain_text("Casey Creator")
    # Start at the creator's nickname, then go through the form in order.
    page.locator(".creator-name").click()
    tab_to(page, "mode-direct")
    tab_to(page, "kind-video")
    tab_to(page, "source-file")
    tab_to(page, "video-file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(FIXTURES / "clip.mp4"))
    expect(page.get_by_text("Length: 4 seconds")).to_be_visible()
    tab_to(page, "title")
    page.keyboard.type("Typed with the keyboard #a11y")
    tab_to(page, "privacy")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Privacy")).to_have_value("PUBLIC_TO_EVERYONE")
    tab_to(page, "allow-comment")
    page.keyboard.press("Space")
    tab_to(page, "allow-duet")
    tab_to(page, "allow-stitch")
    page.keyboard.press("Space")
    tab_to(page, "disclose")
    page.keyboard.press("Space")
    tab_to(page, "your-brand")
    page.keyboard.press("Space")
    expect(page.get_by_text('labeled as "Promotional content"')).to_be_visible()
    tab_to(page, "aigc")
    tab_to(page, "BUTTON:Post")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)
    post = publish_bodies(web.api_calls)[0]["post"]
    assert post["title"] == "Typed with the keyboard #a11y"
    assert post["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert (post["allow_comment"], post["allow_duet"], post["allow_stitch"]) == (True, False, True)
    assert (post["brand_organic"], post["brand_content"]) == (True, False)


def test_the_disconnect_dialog_works_with_the_keyboard(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    tab_to(page, "BUTTON:Disconnect @casey.creates")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert web.fake.authorizations(creator["open_id"])[0]["revoked"] is False
