"""When a scheduled post is due: ``schedule_at`` and ``schedule_tz`` as a request states them.

``schedule_at`` is an RFC 3339 date-time with an offset (``2026-12-24T18:00:00+01:00`` or
``…Z``): one instant, whatever the server's or the viewer's time zone. It must lie at least
:data:`MIN_LEAD` ahead (time to re-check the post and reach TikTok) and at most the deployment's
``SCHEDULE_MAX_DAYS``. ``schedule_tz`` (optional) is the IANA zone the user chose it in, kept for
display; when given, the offset must be that zone's offset at that instant, so a client that
computed the offset for the wrong side of a daylight-saving change is told, instead of the post
going out an hour early or late. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from shared.store.documents import PostChanges

SCHEDULE_FIELDS = ("schedule_at", "schedule_tz")
MIN_LEAD = timedelta(minutes=5)
# RFC 3339 section 5.6 date-time: seconds required, fraction optional, an offset or Z required.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,18})?([Zz]|[+-]\d{2}:\d{2})$"
)
_TZ_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


@dataclass(frozen=True)
class Schedule:
    """A validated schedule: the instant (UTC) and the zone it is shown in (None: UTC)."""

    at: datetime
    tz: str | None

    def fields(self) -> PostChanges:
        """The post document's fields for this schedule."""
        return {"schedule_at": self.at, "schedule_tz": self.tz}


def wants_schedule(body: Mapping[str, Any]) -> bool:
    return any(name in body for name in SCHEDULE_FIELDS)


def parse_schedule(
    body: Mapping[str, Any], *, now: datetime, max_days: int, current: Schedule | None = None
) -> Schedule:
    """The schedule ``body`` states (on top of ``current`` when editing), or INVALID_ARGUMENT
    naming what is wrong."""
    raw_at = body.get("schedule_at")
    if raw_at is None and current is None:
        raise _bad(
            "schedule_at",
            "schedule_at is required to schedule a post: an RFC 3339 date-time with an offset, "
            "e.g. 2026-12-24T18:00:00+01:00",
        )
    tz = current.tz if current else None
    if "schedule_tz" in body:
        tz = None if body["schedule_tz"] is None else _zone(body["schedule_tz"])
    if raw_at is None and current is not None:  # An edit of other fields keeps its time.
        return Schedule(current.at, tz)
    at = _instant(raw_at)
    if tz is not None:
        _check_offset(at, tz)
    at_utc = at.astimezone(UTC)
    _check_window(at_utc, now, max_days)
    return Schedule(at_utc, tz)


def display(at: datetime, tz: str | None) -> str:
    """``at`` as RFC 3339 in the zone it was scheduled in (UTC, with ``Z``, when none)."""
    if tz is None:
        return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return at.astimezone(_zone_info(tz)).isoformat()


def _instant(raw: object) -> datetime:
    match = _RFC3339.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise _bad(
            "schedule_at",
            "schedule_at must be an RFC 3339 date-time with seconds and an offset, e.g. "
            "2026-12-24T18:00:00+01:00 or 2026-12-24T17:00:00Z",
        )
    text = str(raw)
    fraction, offset = match.group(1), match.group(2).upper()
    # Python keeps microseconds: a longer fraction is cut, never rounded up into the next second.
    micro = f".{fraction[1:7].ljust(6, '0')}" if fraction else ""
    normal = f"{text[:10]}T{text[11:19]}{micro}{'+00:00' if offset == 'Z' else offset}"
    try:
        parsed = datetime.fromisoformat(normal)
    except ValueError:
        raise _bad("schedule_at", f"schedule_at {text!r} is not a real date and time") from None
    return parsed


def _zone(raw: object) -> str:
    if not isinstance(raw, str) or not _TZ_NAME.match(raw) or len(raw) > 64:
        raise _bad("schedule_tz", "schedule_tz must be an IANA time zone name, e.g. Europe/Berlin")
    try:
        _zone_info(raw)
    except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        raise _bad(
            "schedule_tz", f"schedule_tz {raw!r} is not an IANA time zone, e.g. Europe/Berlin"
        ) from None
    return raw


def _zone_info(name: str) -> ZoneInfo:
    # zoneinfo is imported here, on purpose not at the top: importing it reads the interpreter's
    # build configuration (sysconfig) to find the zone files, and every function that shows a
    # post imports this module (to show a schedule) while only a post scheduled in a named zone
    # needs a zone. So no cold start pays for it (tests/integration/test_import_cost.py).
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def _check_offset(at: datetime, tz: str) -> None:
    zone = _zone_info(tz)
    expected = at.astimezone(zone).utcoffset()
    if expected != at.utcoffset():
        local = at.astimezone(zone)
        raise errors.InvalidArgument(
            f"schedule_at's offset {at.isoformat()[-6:]} is not {tz}'s offset at that time "
            f"({local.isoformat()[-6:]}): in {tz} that instant is {local.isoformat()}; check "
            "the offset on that date (daylight saving time)",
            reason="schedule.offset_mismatch",
            field="schedule_at",
        )


def _check_window(at: datetime, now: datetime, max_days: int) -> None:
    if at < now + MIN_LEAD:
        raise errors.InvalidArgument(
            f"schedule_at must be at least {int(MIN_LEAD.total_seconds() // 60)} minutes from now "
            f"(it is {_relative(at - now)}); to post now, leave schedule_at out",
            reason="schedule.too_soon",
            field="schedule_at",
        )
    if at > now + timedelta(days=max_days):
        raise errors.InvalidArgument(
            f"schedule_at may be at most {max_days} days ahead",
            reason="schedule.too_far",
            field="schedule_at",
            max_days=max_days,
        )


def _relative(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return f"{-seconds} s in the past"
    return f"{seconds} s ahead"


def _bad(name: str, message: str) -> errors.InvalidArgument:
    return errors.InvalidArgument(message, reason=f"request.{name}", field=name)
