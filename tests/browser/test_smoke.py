from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Web


def test_sign_in_and_connect(signed_in: Web) -> None:
    page = signed_in.page
    expect(page.get_by_role("heading", name="Casey Creator")).to_be_visible()
