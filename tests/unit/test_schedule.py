"""``schedule_at`` and ``schedule_tz``: RFC 3339 instants, the window, and daylight-saving changes.

The instant is what the offset says; ``schedule_tz`` only shows it, but must agree with the offset
at that instant, so a client that used the wrong side of a DST change is told instead of the post
going out an hour off.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import errors
from shared.publishing.schedule import Schedule, display, parse_schedule

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def parse(schedule_at: str, tz: str | None = None, now: datetime = NOW) -> Schedule:
    body = {"schedule_at": schedule_at} | ({"schedule_tz": tz} if tz else {})
    return parse_schedule(body, now=now, max_days=30)


def refusal(schedule_at: str, tz: str | None = None, now: datetime = NOW) -> errors.AppError:
    with pytest.raises(errors.InvalidArgument) as caught:
        parse(schedule_at, tz, now)
    return caught.value


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-03-24T18:00:00+01:00", datetime(2026, 3, 24, 17, 0, tzinfo=UTC)),
        ("2026-03-24T17:00:00Z", datetime(2026, 3, 24, 17, 0, tzinfo=UTC)),
        ("2026-03-24t17:00:00z", datetime(2026, 3, 24, 17, 0, tzinfo=UTC)),
        ("2026-03-24T12:30:00-04:30", datetime(2026, 3, 24, 17, 0, tzinfo=UTC)),
        # A fraction beyond microseconds is cut, never rounded into the next second.
        ("2026-03-24T17:00:00.9999999Z", datetime(2026, 3, 24, 17, 0, 0, 999999, tzinfo=UTC)),
    ],
)
def test_an_rfc_3339_time_is_the_instant_its_offset_says(text: str, utc: datetime) -> None:
    assert parse(text).at == utc


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-24T18:00:00",  # no offset: which 18:00?
        "2026-03-24 18:00:00+01:00",
        "2026-03-24T18:00+01:00",  # RFC 3339 requires seconds
        "2026-03-32T18:00:00Z",
        "2026-02-29T18:00:00Z",  # 2026 is no leap year
        "1774371600",
    ],
)
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    error = refusal(text)
    assert (error.reason, error.field) == ("request.schedule_at", "schedule_at")


def test_the_window_is_five_minutes_to_schedule_max_days() -> None:
    assert parse("2026-03-20T12:05:00Z").at == NOW + timedelta(minutes=5)
    assert refusal("2026-03-20T12:04:59Z").reason == "schedule.too_soon"
    assert refusal("2026-03-20T11:00:00Z").reason == "schedule.too_soon"
    assert parse("2026-04-19T12:00:00Z").at == NOW + timedelta(days=30)
    error = refusal("2026-04-19T12:00:01Z")
    assert (error.reason, error.details["max_days"]) == ("schedule.too_far", 30)


def test_spring_forward_a_wall_time_that_does_not_exist_is_caught() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29: a client that kept winter's +01:00 for 02:30 names
    # 01:30Z, which Berlin calls 03:30+02:00.
    error = refusal("2026-03-29T02:30:00+01:00", "Europe/Berlin")
    assert error.reason == "schedule.offset_mismatch"
    assert "2026-03-29T03:30:00+02:00" in error.message
    assert parse("2026-03-29T01:59:59+01:00", "Europe/Berlin").at == datetime(
        2026, 3, 29, 0, 59, 59, tzinfo=UTC
    )
    assert parse("2026-03-29T03:00:00+02:00", "Europe/Berlin").at == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_fall_back_both_instances_of_a_repeated_hour_are_distinct() -> None:
    now = datetime(2026, 10, 20, tzinfo=UTC)
    first = parse("2026-10-25T02:30:00+02:00", "Europe/Berlin", now)
    second = parse("2026-10-25T02:30:00+01:00", "Europe/Berlin", now)
    assert second.at - first.at == timedelta(hours=1)
    assert display(first.at, first.tz) == "2026-10-25T02:30:00+02:00"
    assert display(second.at, second.tz) == "2026-10-25T02:30:00+01:00"


def test_new_york_across_its_november_change() -> None:
    now = datetime(2026, 10, 28, tzinfo=UTC)
    # 2026-11-01: 02:00 EDT becomes 01:00 EST. 09:00 on Nov 2 is -05:00, not October's -04:00.
    assert refusal("2026-11-02T09:00:00-04:00", "America/New_York", now).reason == (
        "schedule.offset_mismatch"
    )
    ok = parse("2026-11-02T09:00:00-05:00", "America/New_York", now)
    assert ok.at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_the_zone_is_shown_as_chosen_and_utc_without_one() -> None:
    at = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert display(at, "Europe/Berlin") == "2026-07-01T18:00:00+02:00"
    assert display(at, "Asia/Kolkata") == "2026-07-01T21:30:00+05:30"
    assert display(at, None) == "2026-07-01T16:00:00Z"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "", "Europe/Berlin ", 3])
def test_a_zone_that_is_not_iana_is_refused(tz: object) -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        parse_schedule(
            {"schedule_at": "2026-03-24T17:00:00Z", "schedule_tz": tz}, now=NOW, max_days=30
        )
    assert caught.value.reason == "request.schedule_tz"


def test_an_edit_keeps_what_it_does_not_name() -> None:
    current = Schedule(datetime(2026, 3, 24, 17, 0, tzinfo=UTC), "Europe/Berlin")
    # A title-only edit three minutes before the time is fine: the time is not re-checked.
    late = datetime(2026, 3, 24, 16, 57, tzinfo=UTC)
    assert parse_schedule({}, now=late, max_days=30, current=current) == current
    moved = parse_schedule({"schedule_tz": "UTC"}, now=NOW, max_days=30, current=current)
    assert moved == Schedule(current.at, "UTC")
    cleared = parse_schedule({"schedule_tz": None}, now=NOW, max_days=30, current=current)
    assert cleared.tz is None
