"""The privacy policy, linked where TikTok's review looks for it: sign-in and the connect flow."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from deploy.policy.__main__ import TITLE
from deploy.policy.facts import local_stack
from tests.browser.conftest import Web
from tests.browser.pages import assert_accessible


def test_sign_in_and_accounts_link_the_generated_policy(web: Web, creator: dict[str, Any]) -> None:
    page = web.page
    web.goto("/signin")
    page.get_by_role("link", name="privacy policy").click()
    expect(page).to_have_url(f"{web.base}/privacy")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    # The page is the render of this stack's settings: its numbers are the code's.
    drafts = next(r for r in local_stack().retention if r.where == "drafts")
    expect(page.get_by_role("row", name=f"{drafts.what} {drafts.kept}")).to_be_visible()
    assert_accessible(page)

    web.sign_in_quick()
    web.goto("/accounts")
    link = page.get_by_role("link", name="privacy policy")
    expect(link).to_have_attribute("href", "/privacy")
    expect(page.get_by_role("link", name="Connect a TikTok account")).to_be_visible()
