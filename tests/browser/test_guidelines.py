"""TikTok's Content Sharing Guidelines on the "Post to TikTok" page, one test per rule: what the
page shows, and what the API and the fake TikTok received (docs/web-app.md lists the rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import Web, make_creator
from tests.browser.media import FIXTURES
from tests.browser.pages import choose_privacy, choose_video_file, open_post_page, publish_bodies

CLIP = FIXTURES / "clip.mp4"
MUSIC = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED = "https://www.tiktok.com/legal/page/global/bc-policy/en"
DISCLOSURE = "You need to indicate if your content promotes yourself, a third party, or both."
NOT_PRIVATE = "Branded content visibility cannot be set to private."


def ready(web: Web, **creator: Any) -> Page:
    """Signed in, the creator connected, on the post page."""
    user = make_creator(web, **creator)
    web.sign_in_quick()
    web.connect(user["username"])
    open_post_page(web.page)
    return web.page


def post_button(page: Page) -> Any:
    return page.get_by_role("button", name="Post", exact=True)


def publishes(web: Web) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = web.fake.control("GET", "publishes")["publishes"]
    return found


def post_and_wait(page: Page) -> None:
    post_button(page).click()
    expect(page.get_by_role("heading", name="Post status")).to_be_visible(timeout=30000)


# 1. Fresh creator info --------------------------------------------------------------------------


def test_creator_info_is_asked_fresh_each_time_the_page_renders(web: Web) -> None:
    page = ready(web)
    first = web.fake.calls().get("creator_info", 0)
    assert first == 1
    page.reload()
    expect(page.get_by_text("Posting to")).to_be_visible()
    page.get_by_role("link", name="History").first.click()
    page.go_back()
    expect(page.get_by_text("Posting to")).to_be_visible()
    assert web.fake.calls()["creator_info"] == 3
    assert len(web.calls("GET", "/api/tiktok/accounts/")) == 3


def test_the_creators_nickname_and_avatar_are_shown(web: Web) -> None:
    page = ready(web, display_name="Rio Nakamura", username="rio.makes")
    card = page.locator(".creator")
    expect(card).to_contain_text("Posting to")
    expect(card).to_contain_text("Rio Nakamura")
    expect(card).to_contain_text("@rio.makes")
    expect(card.locator("img")).to_have_attribute("src", web.assets.url("avatar.jpg"))


@pytest.mark.parametrize(
    ("spam", "words"),
    [
        ("spam_risk_too_many_posts", "limit of posts made through apps for today"),
        ("spam_risk_user_banned_from_posting", "does not allow this account to post"),
    ],
)
def test_a_creator_who_cannot_post_now_is_stopped_with_tiktoks_reason(
    web: Web, spam: str, words: str
) -> None:
    page = ready_without_form(web, spam=spam)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't post right now")
    expect(alert).to_contain_text(words)
    expect(alert).to_contain_text(f"tiktok.{spam}")
    expect(post_button(page)).to_have_count(0)
    expect(page.get_by_label("Privacy")).to_have_count(0)
    assert publishes(web) == []


def ready_without_form(web: Web, **creator: Any) -> Page:
    user = make_creator(web, **creator)
    web.sign_in_quick()
    web.connect(user["username"])
    web.page.get_by_role("link", name="Post to TikTok").first.click()
    expect(web.page.get_by_role("heading", name="Post to TikTok")).to_be_visible()
    expect(web.page.get_by_role("alert")).to_be_visible()
    return web.page


def test_a_video_longer_than_the_creator_may_post_is_refused_before_any_upload(web: Web) -> None:
    page = ready(web, max_video_post_duration_sec=3)
    expect(page.get_by_text("can post videos of up to 3 seconds")).to_be_visible()
    page.get_by_label("Video file").set_input_files(str(CLIP))
    expect(page.get_by_role("alert")).to_contain_text("This video is 4 seconds long")
    choose_privacy(page, "Only me")
    expect(post_button(page)).to_be_disabled()
    expect(page.locator("#blockers")).to_contain_text("at most 3 seconds")
    post_button(page).click(force=True)
    assert web.calls("POST", "/api/publish") == []
    assert web.calls("PUT", "/api/publish") == []
    assert publishes(web) == []


# 2. User-entered metadata -----------------------------------------------------------------------


def test_the_title_is_editable_and_sent_as_typed(web: Web) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    title = page.get_by_label("Title")
    expect(title).to_have_value("")
    title.fill("first draft")
    title.fill("Sunset over the bay #travel @friend")
    choose_privacy(page, "Only me")
    post_and_wait(page)
    assert (
        publish_bodies(web.api_calls)[0]["post"]["title"] == "Sunset over the bay #travel @friend"
    )
    assert publishes(web)[0]["post_info"]["title"] == "Sunset over the bay #travel @friend"


def test_privacy_offers_only_the_creators_options(web: Web) -> None:
    page = ready(web, private_account=True)
    options = page.get_by_label("Privacy").locator("option")
    expect(options).to_have_text(
        [
            "Choose who can see this post",
            "Followers",
            "Friends (followers you follow back)",
            "Only me",
        ]
    )
    expect(page.get_by_label("Privacy").locator("option", has_text="Everyone")).to_have_count(0)


def test_privacy_has_no_default_and_nothing_is_sent_until_one_is_chosen(web: Web) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    expect(page.get_by_label("Privacy")).to_have_value("")
    expect(post_button(page)).to_be_disabled()
    expect(page.locator("#blockers")).to_contain_text("Choose who can see this post.")
    post_button(page).click(force=True)
    page.keyboard.press("Enter")
    assert web.calls("POST", "/api/publish") == []
    choose_privacy(page, "Friends (followers you follow back)")
    post_and_wait(page)
    assert publish_bodies(web.api_calls)[0]["post"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
    assert publishes(web)[0]["post_info"]["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"


def test_interactions_are_unchecked_by_default(web: Web) -> None:
    page = ready(web)
    for name in ("Allow comments", "Allow Duet", "Allow Stitch"):
        expect(page.get_by_label(name)).not_to_be_checked()
        expect(page.get_by_label(name)).to_be_enabled()
    choose_video_file(page, CLIP)
    choose_privacy(page, "Only me")
    post_and_wait(page)
    sent = publish_bodies(web.api_calls)[0]["post"]
    assert (sent["allow_comment"], sent["allow_duet"], sent["allow_stitch"]) == (False,) * 3
    info = publishes(web)[0]["post_info"]
    assert (info["disable_comment"], info["disable_duet"], info["disable_stitch"]) == (True,) * 3


def test_interactions_the_creator_turned_off_are_greyed_and_cannot_be_turned_on(web: Web) -> None:
    page = ready(web, comment_disabled=True, duet_disabled=True)
    duet = page.get_by_label("Allow Duet")
    expect(duet).to_be_disabled()
    expect(page.get_by_label("Allow comments")).to_be_disabled()
    expect(page.get_by_label("Allow Stitch")).to_be_enabled()
    expect(page.get_by_text("Duet is turned off for this account")).to_be_visible()
    expect(
        page.get_by_text("Comments are turned off in this account's TikTok settings")
    ).to_be_visible()
    duet.click(force=True)
    page.get_by_text("Allow Duet", exact=True).click(force=True)
    expect(duet).not_to_be_checked()
    page.get_by_label("Allow Stitch").check()
    choose_video_file(page, CLIP)
    choose_privacy(page, "Everyone")
    post_and_wait(page)
    sent = publish_bodies(web.api_calls)[0]["post"]
    assert (sent["allow_comment"], sent["allow_duet"], sent["allow_stitch"]) == (False, False, True)


def test_photo_posts_show_only_allow_comments(web: Web) -> None:
    page = ready(web)
    page.get_by_label("Photos").check()
    expect(page.get_by_label("Allow comments")).to_be_visible()
    expect(page.get_by_label("Allow Duet")).to_have_count(0)
    expect(page.get_by_label("Allow Stitch")).to_have_count(0)
    page.get_by_label("URLs on your verified domain").check()
    page.get_by_label("Photo URLs, one per line").fill(web.assets.url("photo1.jpg"))
    choose_privacy(page, "Only me")
    page.get_by_label("Allow comments").check()
    post_and_wait(page)
    sent = publish_bodies(web.api_calls)[0]
    assert sent["media"] == {
        "type": "photo",
        "urls": [web.assets.url("photo1.jpg")],
        "cover_index": 0,
    }
    assert "allow_duet" not in sent["post"]
    assert "allow_stitch" not in sent["post"]
    assert sent["post"]["allow_comment"] is True


# 3. Commercial content disclosure ---------------------------------------------------------------


def test_commercial_disclosure_is_off_by_default(web: Web) -> None:
    page = ready(web)
    switch = page.get_by_role("switch", name="Disclose commercial content")
    expect(switch).not_to_be_checked()
    expect(page.get_by_label("Your brand")).to_have_count(0)
    choose_video_file(page, CLIP)
    choose_privacy(page, "Everyone")
    post_and_wait(page)
    sent = publish_bodies(web.api_calls)[0]["post"]
    assert (sent["brand_organic"], sent["brand_content"]) == (False, False)
    info = publishes(web)[0]["post_info"]
    assert (info["brand_organic_toggle"], info["brand_content_toggle"]) == (False, False)


def test_disclosure_on_needs_your_brand_or_branded_content(web: Web) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    choose_privacy(page, "Everyone")
    page.get_by_role("switch", name="Disclose commercial content").check()
    expect(post_button(page)).to_be_disabled()
    expect(page.locator("span[title]").filter(has=post_button(page))).to_have_attribute(
        "title", DISCLOSURE
    )
    expect(page.locator("#blockers")).to_contain_text(DISCLOSURE)
    post_button(page).click(force=True)
    assert web.calls("POST", "/api/publish") == []
    page.get_by_label("Your brand").check()
    expect(post_button(page)).to_be_enabled()


@pytest.mark.parametrize(
    ("your_brand", "branded", "label", "organic", "content"),
    [
        (True, False, 'Your video will be labeled as "Promotional content".', True, False),
        (False, True, 'Your video will be labeled as "Paid partnership".', False, True),
        (True, True, 'Your video will be labeled as "Paid partnership".', True, True),
    ],
    ids=["your-brand", "branded", "both"],
)
def test_the_label_tiktok_will_show_matches_the_disclosure(
    web: Web, your_brand: bool, branded: bool, label: str, organic: bool, content: bool
) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    choose_privacy(page, "Everyone")
    page.get_by_role("switch", name="Disclose commercial content").check()
    if your_brand:
        page.get_by_label("Your brand").check()
    if branded:
        page.get_by_label("Branded content").check()
    expect(page.get_by_text(label)).to_be_visible()
    post_and_wait(page)
    info = publishes(web)[0]["post_info"]
    assert (info["brand_organic_toggle"], info["brand_content_toggle"]) == (organic, content)


def test_branded_content_is_disabled_when_only_me_is_chosen(web: Web) -> None:
    page = ready(web)
    choose_privacy(page, "Only me")
    page.get_by_role("switch", name="Disclose commercial content").check()
    branded = page.get_by_label("Branded content")
    expect(branded).to_be_disabled()
    expect(page.locator("#branded-content-reason")).to_have_text(NOT_PRIVATE)
    branded.click(force=True)
    expect(branded).not_to_be_checked()


def test_only_me_is_disabled_once_branded_content_is_ticked(web: Web) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    page.get_by_role("switch", name="Disclose commercial content").check()
    page.get_by_label("Branded content").check()
    only_me = page.get_by_label("Privacy").locator("option[value=SELF_ONLY]")
    expect(only_me).to_be_disabled()
    expect(only_me).to_have_attribute("title", NOT_PRIVATE)
    expect(page.locator("#privacy-hint")).to_have_text(NOT_PRIVATE)
    with pytest.raises(PlaywrightError):  # Playwright refuses to pick a disabled option.
        page.get_by_label("Privacy").select_option("SELF_ONLY", timeout=2000)
    expect(page.get_by_label("Privacy")).to_have_value("")
    choose_privacy(page, "Everyone")
    post_and_wait(page)
    info = publishes(web)[0]["post_info"]
    assert info["brand_content_toggle"] is True
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE"


@pytest.mark.parametrize(
    ("disclose", "your_brand", "branded", "links"),
    [
        (False, False, False, [("Music Usage Confirmation", MUSIC)]),
        (True, True, False, [("Music Usage Confirmation", MUSIC)]),
        (
            True,
            False,
            True,
            [("Branded Content Policy", BRANDED), ("Music Usage Confirmation", MUSIC)],
        ),
    ],
    ids=["plain", "your-brand", "branded"],
)
def test_the_consent_line_matches_the_choice(
    web: Web, disclose: bool, your_brand: bool, branded: bool, links: list[tuple[str, str]]
) -> None:
    page = ready(web)
    if disclose:
        page.get_by_role("switch", name="Disclose commercial content").check()
    if your_brand:
        page.get_by_label("Your brand").check()
    if branded:
        page.get_by_label("Branded content").check()
    consent = page.locator("#consent")
    words = " and ".join(name for name, _ in links)
    expect(consent).to_have_text(f"By posting, you agree to TikTok's {words}.")
    anchors = consent.get_by_role("link")
    expect(anchors).to_have_count(len(links))
    for i, (name, href) in enumerate(links):
        expect(anchors.nth(i)).to_have_text(name)
        expect(anchors.nth(i)).to_have_attribute("href", href)
    expect(post_button(page)).to_have_attribute("aria-describedby", "blockers consent")


# 4. User awareness and control ------------------------------------------------------------------


def test_a_preview_of_the_chosen_media_is_shown(web: Web) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    preview = page.get_by_label("Preview of the chosen video")
    expect(preview).to_be_visible()
    assert page.evaluate("document.querySelector('.preview video').duration") == pytest.approx(
        4, 0.1
    )
    page.get_by_label("Photos").check()
    page.get_by_label("URLs on your verified domain").check()
    page.get_by_label("Photo URLs, one per line").fill(
        web.assets.url("photo1.jpg") + "\n" + web.assets.url("photo2.jpg")
    )
    expect(page.get_by_role("img", name="Photo 1 (cover)")).to_be_visible()
    expect(page.get_by_role("img", name="Photo 2")).to_be_visible()
    assert page.evaluate("document.querySelector('.photos img').naturalWidth") == 720


def test_the_page_says_the_post_may_take_a_few_minutes(web: Web) -> None:
    page = ready(web)
    notice = "may take a few minutes for TikTok to process your post and for it to appear"
    expect(page.get_by_text(notice)).to_be_visible()
    choose_video_file(page, CLIP)
    choose_privacy(page, "Only me")
    web.fake.control("POST", "config", json={"processing_seconds": 5})
    post_and_wait(page)
    expect(page.get_by_text(notice)).to_be_visible()
    expect(page.get_by_text("Posted", exact=True)).to_be_visible(timeout=30000)


def test_nothing_reaches_tiktok_before_the_user_presses_post(web: Web, tmp_path: Path) -> None:
    page = ready(web)
    choose_video_file(page, CLIP)
    page.get_by_label("Title").fill("Ready to go")
    choose_privacy(page, "Everyone")
    page.get_by_label("Allow comments").check()
    page.wait_for_timeout(500)
    calls = web.fake.calls()
    assert {name for name in calls if calls[name]} <= {
        "authorize",
        "decision",
        "token",
        "user_info",
        "creator_info",
        "video_list",  # the first analytics snapshot, taken right after connect: reads only
    }
    changes = [c for c in web.api_calls if c["method"] != "GET" and c["path"] != "/api/session"]
    assert changes == []
    assert publishes(web) == []
    post_and_wait(page)
    assert len(publishes(web)) == 1
    assert web.fake.calls()["video_init"] == 1
