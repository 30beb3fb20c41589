"""Accounts: reconnect an account TikTok no longer accepts, and a disconnect TikTok could not be
told about (the page gives TikTok's settings path)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Web
from tests.browser.pages import open_post_page


def test_an_account_that_needs_reconnecting_says_so_and_reconnects(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    web.fake.control(
        "POST",
        "fail",
        json={"endpoint": "creator_info", "status": 401, "code": "access_token_invalid"},
    )
    open_post_page_without_form(web)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("tiktok.access_token_invalid")
    expect(alert.get_by_role("link", name="Reconnect @casey.creates")).to_be_visible()

    page.get_by_role("link", name="Accounts").click()
    card = page.get_by_role("listitem").filter(has_text="@casey.creates")
    expect(card).to_contain_text("Needs reconnecting")
    expect(card).to_contain_text("Reconnect it to post again.")
    expect(card.get_by_role("link", name="Post to @casey.creates")).to_have_count(0)
    card.get_by_role("link", name="Reconnect @casey.creates").click()
    page.get_by_role("button", name="Approve as @casey.creates").click()
    expect(page.get_by_text("@casey.creates is connected.")).to_be_visible()
    expect(card).to_contain_text("Connected")
    open_post_page(page)


def open_post_page_without_form(web: Web) -> None:
    web.page.get_by_role("link", name="Post to @casey.creates").click()
    expect(web.page.get_by_role("alert")).to_be_visible()


def test_a_disconnect_tiktok_could_not_confirm_gives_the_settings_path(
    web: Web, creator: dict[str, Any]
) -> None:
    page = web.page
    web.sign_in_quick()
    web.connect(creator["username"])
    web.fake.control("POST", "fail", json={"endpoint": "revoke", "status": 500, "times": 10})
    page.get_by_role("button", name="Disconnect @casey.creates").click()
    page.get_by_role("dialog").get_by_role("button", name="Disconnect").click()
    notice = page.get_by_role("status").filter(has_text="is disconnected")
    expect(notice).to_contain_text("its tokens and profile were deleted")
    expect(notice).to_contain_text("TikTok could not be told")
    expect(notice).to_contain_text("Settings and privacy > Security and permissions")
    expect(page.get_by_text("No TikTok account is connected yet.")).to_be_visible()


def test_a_declined_consent_says_so(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.sign_in_quick()
    page.get_by_role("link", name="Connect a TikTok account").click()
    page.get_by_role("button", name="Deny as @casey.creates").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You declined on TikTok's page")
    expect(alert).to_contain_text("access_denied")
