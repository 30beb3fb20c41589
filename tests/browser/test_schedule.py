"""Scheduling from the post page: a time picked in a zone that is not the browser's (the browser
runs in UTC) reaches the API with that zone's offset at that instant, the Scheduled page shows it
in that zone, a new time is saved with PATCH (and read back at once, by the list and by a reload),
new settings are saved with PATCH against fresh creator info, a cancel (confirmed) leaves the post
CANCELLED, and the API's refusals (too soon, a post no longer scheduled) are shown where the user
acts. Daylight-saving gaps and repeated hours are handled in the page before anything is sent. A
video from the device is scheduled by staging it: tests/browser/test_staged_video.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Web
from tests.browser.pages import (
    assert_accessible,
    choose_privacy,
    open_post_page,
    publish_bodies,
)

NEW_YORK = ZoneInfo("America/New_York")


def wall(days: float, zone: ZoneInfo = NEW_YORK) -> datetime:
    """A whole minute ``days`` ahead, as a wall time in ``zone``."""
    at = (datetime.now(UTC) + timedelta(days=days)).astimezone(zone)
    return at.replace(second=0, microsecond=0)


def compose_url_video(web: Web, title: str) -> Page:
    page = web.page
    open_post_page(page)
    page.get_by_label("A URL on your verified domain").check()
    page.get_by_label("Video URL").fill(web.assets.url("clip.mp4"))
    page.get_by_role("button", name="Check video").click()
    expect(page.get_by_text("Length: 4 seconds")).to_be_visible()
    page.get_by_label("Title").fill(title)
    choose_privacy(page, "Only me")
    return page


def pick(page: Page, local: datetime, zone: str = "America/New_York") -> None:
    page.get_by_label("Schedule", exact=True).check()
    page.get_by_label("Time zone").select_option(zone)
    page.get_by_label("Date and time").fill(local.strftime("%Y-%m-%dT%H:%M"))


def rfc3339(at: datetime) -> str:
    """``at`` as the API answers it: seconds and the zone's offset at that instant."""
    return at.isoformat(timespec="seconds")


def scheduled_posts(web: Web) -> list[dict[str, Any]]:
    response = web.page.request.get(web.base + "/api/posts?status=SCHEDULED")
    assert response.ok, response.text()
    posts: list[dict[str, Any]] = response.json()["posts"]
    return posts


def test_schedule_in_another_zone_then_edit_and_cancel(web: Web, creator: dict[str, Any]) -> None:
    web.sign_in_quick()
    web.connect(creator["username"])
    page = compose_url_video(web, "Harbour at dawn")
    expect(page.get_by_label("Post now", exact=True)).to_be_checked()
    page.get_by_label("Schedule", exact=True).check()
    expect(page.get_by_label("Time zone")).to_have_value("UTC")  # the browser's own zone first
    local = wall(2)
    pick(page, local)
    expected = rfc3339(local)
    assert expected[-6:] in ("-05:00", "-04:00")
    expect(page.locator("#schedule-result")).to_contain_text("America/New_York")
    page.get_by_role("button", name="Schedule", exact=True).click()

    expect(page.get_by_text("Scheduled for")).to_contain_text("(America/New_York, GMT-")
    (body,) = publish_bodies(web.calls("POST", "/api/publish"))
    assert body["schedule_at"] == expected
    assert body["schedule_tz"] == "America/New_York"
    (stored,) = scheduled_posts(web)
    assert stored["schedule_at"] == expected  # answered in the zone's offset
    assert stored["schedule_tz"] == "America/New_York"
    assert datetime.fromisoformat(stored["schedule_at"]) == local

    page.get_by_role("navigation").get_by_role("link", name="Scheduled").click()
    row = page.get_by_role("list", name="Scheduled posts").get_by_role("listitem")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Harbour at dawn")
    expect(row).to_contain_text("America/New_York")
    expect(row.locator("time")).to_have_attribute("datetime", expected)

    # A new time, an hour later, in the same zone.
    row.get_by_role("button", name="Change the time of Harbour at dawn").click()
    later = local + timedelta(hours=1)
    field = row.get_by_label("New date and time")
    expect(field).to_have_value(local.strftime("%Y-%m-%dT%H:%M"))
    expect(row.get_by_label("Time zone")).to_have_value("America/New_York")
    field.fill(later.strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Save the new time").click()
    expect(row.get_by_role("button", name="Save the new time")).to_have_count(0)
    expect(row.locator("time")).to_have_attribute("datetime", rfc3339(later))  # PATCH's answer
    # Read back at once, no waiting: by the API's list, and by the page loaded anew.
    assert [p["schedule_at"] for p in scheduled_posts(web)] == [rfc3339(later)]
    page.reload()
    expect(row.locator("time")).to_have_attribute("datetime", rfc3339(later))

    # Cancel asks first; "No" keeps it.
    row.get_by_role("button", name="Cancel Harbour at dawn").click()
    row.get_by_role("button", name="No, keep it").click()
    expect(row.get_by_text("Scheduled", exact=True)).to_be_visible()
    row.get_by_role("button", name="Cancel Harbour at dawn").click()
    row.get_by_role("button", name="Yes, cancel the post").click()
    expect(row.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Change the time of Harbour at dawn")).to_have_count(0)
    assert scheduled_posts(web) == []
    post = web.page.request.get(f"{web.base}/api/publish/{stored['id']}/status").json()["post"]
    assert post["status"] == "CANCELLED"

    page.get_by_role("navigation").get_by_role("link", name="History").click()
    history = page.get_by_role("list", name="Posts, newest first").get_by_role("listitem")
    expect(history.filter(has_text="Harbour at dawn")).to_contain_text("Cancelled")
    expect(history.filter(has_text="Harbour at dawn")).to_contain_text("Was scheduled for")


def test_an_edit_after_the_post_left_scheduled_shows_the_409(
    web: Web, creator: dict[str, Any]
) -> None:
    web.sign_in_quick()
    web.connect(creator["username"])
    page = compose_url_video(web, "Too late to change")
    pick(page, wall(1))
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Scheduled for")).to_be_visible()
    page.get_by_role("navigation").get_by_role("link", name="Scheduled").click()
    row = page.get_by_role("list", name="Scheduled posts").get_by_role("listitem")
    row.get_by_role("button", name="Change the time of Too late to change").click()
    (stored,) = scheduled_posts(web)
    gone = web.page.request.delete(
        f"{web.base}/api/publish/{stored['id']}", headers={"Origin": web.base}
    )
    assert gone.ok, gone.text()  # cancelled elsewhere meanwhile
    row.get_by_label("New date and time").fill(wall(3).strftime("%Y-%m-%dT%H:%M"))
    row.get_by_role("button", name="Save the new time").click()
    alert = row.get_by_role("alert")
    expect(alert).to_contain_text("schedule.cancelled")
    expect(alert).to_contain_text("HTTP 409")


def test_refusals_and_daylight_saving_in_the_picker(web: Web, creator: dict[str, Any]) -> None:
    web.sign_in_quick()
    web.connect(creator["username"])
    page = compose_url_video(web, "Soon")
    submit = page.get_by_role("button", name="Schedule", exact=True)

    # 02:30 on the night New York springs forward does not exist: refused before sending.
    pick(page, datetime(2027, 3, 14, 2, 30))
    expect(page.locator("#schedule-result")).to_contain_text("does not exist in America/New_York")
    expect(submit).to_be_disabled()
    # 01:30 on the night it falls back happens twice: the user picks which.
    pick(page, datetime(2027, 11, 7, 1, 30))
    expect(page.get_by_label("The earlier one (-04:00)")).to_be_checked()
    page.get_by_label("The later one (-05:00)").check()
    expect(page.locator("#schedule-result")).to_contain_text("GMT-5")
    assert_accessible(page)  # the picker open, with the repeated-hour choice

    # Two minutes ahead: the API's refusal, next to the picker.
    pick(page, wall(2 / (24 * 60)))
    submit.click()
    alert = page.get_by_role("group", name="When").get_by_role("alert")
    expect(alert).to_contain_text("schedule.too_soon")
    expect(alert).to_contain_text("5 minutes")
    assert scheduled_posts(web) == []


def open_settings(web: Web, title: str) -> Locator:
    page = web.page
    page.get_by_role("navigation").get_by_role("link", name="Scheduled").click()
    row = page.get_by_role("list", name="Scheduled posts").get_by_role("listitem")
    row.get_by_role("button", name=f"Change the settings of {title}").click()
    return row


def test_the_settings_of_a_scheduled_post_are_changed_against_fresh_creator_info(
    web: Web, creator: dict[str, Any]
) -> None:
    web.sign_in_quick()
    web.connect(creator["username"])
    page = compose_url_video(web, "Harbour at dawn")
    page.get_by_label("Allow comments").check()
    pick(page, wall(2))
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Scheduled for")).to_be_visible()
    # In TikTok, the creator turns comments off after scheduling.
    web.fake.control("PATCH", f"users/{creator['open_id']}", json={"comment_disabled": True})

    row = open_settings(web, "Harbour at dawn")
    form = row.get_by_role("form", name="Settings of Harbour at dawn")
    expect(form.get_by_label("Title")).to_have_value("Harbour at dawn")
    expect(form.get_by_label("Who can see it")).to_have_value("SELF_ONLY")
    comments = form.get_by_label("Allow comments")
    expect(comments).to_be_disabled()  # as creator info says now: it cannot stay on
    expect(comments).not_to_be_checked()
    expect(form).to_contain_text("Comments are turned off in this account's TikTok settings.")
    form.get_by_label("Title").fill("Harbour at noon #sea")
    form.get_by_label("Who can see it").select_option(label="Everyone")
    form.get_by_label("Allow Duet").check()
    form.get_by_label("Disclose commercial content").check()
    save = form.get_by_role("button", name="Save the settings")
    expect(save).to_be_disabled()  # a disclosure needs a choice
    expect(form.get_by_role("list", name="Before you can save")).to_contain_text(
        "You need to indicate if your content promotes yourself"
    )
    form.get_by_label("Your brand").check()
    expect(form).to_contain_text('labeled as "Promotional content"')
    save.click()

    expect(row.get_by_role("form")).to_have_count(0)
    expect(row).to_contain_text("Harbour at noon #sea")  # PATCH's answer, shown at once
    (body,) = [json.loads(c["body"]) for c in web.calls("PATCH", "/api/publish/")]
    assert body == {
        "post": {
            "title": "Harbour at noon #sea",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "allow_comment": False,
            "allow_duet": True,
            "allow_stitch": False,
            "disclose_commercial_content": True,
            "brand_organic": True,
            "brand_content": False,
            "is_aigc": False,
        }
    }
    (stored,) = scheduled_posts(web)  # what the due run will send
    assert {k: stored[k] for k in body["post"]} == body["post"]
    assert stored["status"] == "SCHEDULED"
    page.reload()
    expect(row).to_contain_text("Harbour at noon #sea")


def test_a_privacy_level_tiktok_no_longer_offers_must_be_chosen_again(
    web: Web, creator: dict[str, Any]
) -> None:
    web.sign_in_quick()
    web.connect(creator["username"])
    page = compose_url_video(web, "Going private")
    choose_privacy(page, "Everyone")
    pick(page, wall(1))
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Scheduled for")).to_be_visible()
    # The creator makes the account private: TikTok no longer offers "Everyone".
    web.fake.control("PATCH", f"users/{creator['open_id']}", json={"private_account": True})

    row = open_settings(web, "Going private")
    form = row.get_by_role("form", name="Settings of Going private")
    privacy = form.get_by_label("Who can see it")
    expect(privacy).to_have_value("")
    assert "Everyone" not in privacy.locator("option").all_inner_texts()
    expect(form.get_by_role("list", name="Before you can save")).to_contain_text(
        'TikTok no longer offers "Everyone" for this account'
    )
    expect(form.get_by_role("button", name="Save the settings")).to_be_disabled()
    expect(form.get_by_label("Allow Duet")).to_be_disabled()  # a private account: no duets
    assert_accessible(page)  # the settings form open
    privacy.select_option(label="Followers")
    form.get_by_role("button", name="Save the settings").click()

    expect(row.get_by_role("form")).to_have_count(0)
    (stored,) = scheduled_posts(web)
    assert stored["privacy_level"] == "FOLLOWER_OF_CREATOR"
