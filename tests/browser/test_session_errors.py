"""Sign-out, and API errors shown in plain words next to what caused them: a 401 returns to
sign-in (and back to the page afterwards), a 503 says to try again, a refused post keeps the
reason for support."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Web
from tests.browser.pages import choose_privacy, open_post_page
from tests.support import AuthEmulator


def test_sign_out_ends_the_session(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    assert web.calls("DELETE", "/api/session") == [
        {"method": "DELETE", "path": "/api/session", "body": None}
    ]
    assert page.request.get(web.base + "/api/session").status == 401
    web.goto("/history")
    expect(page.get_by_role("button", name="Sign in with Google")).to_be_visible()


def test_sign_out_everywhere_ends_the_other_devices_sessions_too(
    web: Web, creator: dict[str, Any], browser: Browser
) -> None:
    page = web.page
    # Another device: the same Google account signed in from a second browser of its own.
    other = browser.new_context()
    try:
        answer = AuthEmulator(web.stack).sign_in_with_google(email="ann@example.com", name="Ann")
        signed_in = other.request.post(
            web.base + "/api/session",
            data={"id_token": answer["idToken"]},
            headers={"Origin": web.base},
        )
        assert signed_in.status == 200, signed_in.text()
        assert other.request.get(web.base + "/api/session").status == 200

        web.sign_in()
        page.get_by_role("button", name="Sign out everywhere").click()
        expect(page.get_by_text("You are signed out on every device.")).to_be_visible()
        assert [c["path"] for c in web.calls("DELETE", "/api/session")] == [
            "/api/session?everywhere=true"
        ]
        assert page.request.get(web.base + "/api/session").status == 401
        assert other.request.get(web.base + "/api/session").status == 401
    finally:
        other.close()


def test_an_expired_session_returns_to_sign_in_and_then_to_the_page(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    web.sign_in()
    # The accounts page's own requests must be answered first: one still in flight when the
    # cookie goes would meet the 401 itself and leave for sign-in before History is clicked.
    page.wait_for_load_state("networkidle")
    web.context.clear_cookies()
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    expect(page.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    assert "/signin?next=%2Fhistory" in page.url
    web.sign_in_with_popup("Post history")


def test_a_503_says_to_try_again_and_keeps_the_reason(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in()
    web.connect(creator["username"])
    web.fake.control("POST", "fail", json={"endpoint": "creator_info", "status": 503, "times": 20})
    page.get_by_role("link", name="Post to @casey.creates").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please try again in a moment.")
    expect(alert).to_contain_text("HTTP 503")
    expect(alert).to_be_focused()


def test_a_refused_post_is_explained_next_to_the_post_button(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    web.sign_in()
    web.connect(creator["username"])
    open_post_page(page)
    page.get_by_label("A URL on your verified domain").check()
    # Loopback under another name: the browser loads it, but it is not a verified URL prefix.
    unverified = web.assets.url("clip.mp4").replace("127.0.0.1", "localhost")
    page.get_by_label("Video URL").fill(unverified)
    page.get_by_role("button", name="Check video").click()
    expect(page.get_by_text("Length: 4 seconds")).to_be_visible()
    choose_privacy(page, "Only me")
    page.get_by_role("button", name="Post", exact=True).click()
    alert = page.locator(".submit").get_by_role("alert")
    expect(alert).to_contain_text("url_ownership_unverified")
    expect(alert).to_be_focused()
    expect(page.get_by_role("button", name="Post", exact=True)).to_be_enabled()
