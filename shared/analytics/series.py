"""Reading analytics: an account's daily series and each video's, over a bounded date range.

``GET /api/tiktok/accounts/{open_id}/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD`` answers the
account's stats day by day and, per video seen in the range, its daily metrics and latest
values, sorted by views (most first); ``…/videos/{video_id}/analytics`` one video's. Dates are
UTC days, both ends included, at most :data:`MAX_DAYS` days; without ``from`` and ``to`` the
last 30 days. Every read is scoped to the signed-in user (another user's account is not found,
promise P4). Video ids are strings end to end: they exceed 2**53.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import get_account
from shared.store.analytics import ACCOUNT_STATS, VIDEO_METRICS
from shared.web.fields import reject_unknown

if TYPE_CHECKING:
    from shared.store.accounts import AccountStore
    from shared.store.analytics import AnalyticsStore

MAX_DAYS = 400
DEFAULT_DAYS = 30
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_VIDEO_ID = re.compile(r"[0-9]{1,32}")


def _day(raw: str, name: str) -> date:
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise errors.InvalidArgument(
            f"{name} must be a date like 2026-01-31 (YYYY-MM-DD, UTC), got {raw[:40]!r}",
            reason=f"request.{name}",
        ) from None


def parse_range(args: Mapping[str, str], today: date) -> tuple[date, date]:
    """``from`` and ``to`` (inclusive) from the query, or 400 saying what is wrong."""
    raw_to, raw_from = args.get("to"), args.get("from")
    last = _day(raw_to, "to") if raw_to else today
    first = _day(raw_from, "from") if raw_from else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise errors.InvalidArgument(f"from ({first}) is after to ({last})", reason="request.range")
    if (last - first).days + 1 > MAX_DAYS:
        raise errors.InvalidArgument(
            f"a range holds at most {MAX_DAYS} days; {first} to {last} is "
            f"{(last - first).days + 1}",
            reason="request.range",
        )
    return first, last


def check_video_id(raw: str) -> str:
    if not _VIDEO_ID.fullmatch(raw):
        raise errors.InvalidArgument(
            "a video id is TikTok's numeric id, as a string", reason="request.video_id"
        )
    return raw


def account_analytics(
    accounts: AccountStore,
    analytics: AnalyticsStore,
    *,
    uid: str,
    open_id: str,
    first: date,
    last: date,
    now: datetime,
) -> dict[str, Any]:
    """The account's series and its videos' series, latest values and titles (views first)."""
    account = get_account(accounts, uid, open_id)
    series: list[dict[str, Any]] = []
    videos: dict[str, dict[str, Any]] = {}
    for snap in analytics.between(uid, open_id, first, last, now):
        day = snap["date"]
        stats = snap.get("account") or {}
        series.append({"date": day, **{k: stats.get(k) for k in ACCOUNT_STATS}})
        for video in snap.get("videos") or []:
            entry = videos.setdefault(str(video["id"]), {"id": str(video["id"]), "series": []})
            point = {k: video.get(k) for k in VIDEO_METRICS}
            entry["series"].append({"date": day, **point})
            entry["latest"] = point
            entry["latest_date"] = day
            entry["title"] = video.get("title")
    ordered = sorted(
        videos.values(), key=lambda v: (-(v["latest"].get("view_count") or 0), v["id"])
    )
    return {
        "open_id": open_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "analytics_enabled": account.analytics_enabled,
        "analytics_reason": account.analytics_reason,
        "account": series,
        "videos": ordered,
    }


def video_analytics(
    accounts: AccountStore,
    analytics: AnalyticsStore,
    *,
    uid: str,
    open_id: str,
    video_id: str,
    first: date,
    last: date,
    now: datetime,
) -> dict[str, Any]:
    """One video's daily metrics in the range; 404 when no snapshot in it has the video."""
    check_video_id(video_id)
    get_account(accounts, uid, open_id)
    found: dict[str, Any] | None = None
    for snap in analytics.between(uid, open_id, first, last, now):
        for video in snap.get("videos") or []:
            if str(video["id"]) == video_id:
                point = {k: video.get(k) for k in VIDEO_METRICS}
                if found is None:
                    found = {"id": video_id, "series": []}
                found["series"].append({"date": snap["date"], **point})
                found.update(title=video.get("title"), latest=point, latest_date=snap["date"])
    if found is None:
        raise errors.NotFound(
            f"no metrics for video {video_id!r} of this account from {first} to {last}",
            reason="video",
        )
    return {"open_id": open_id, "from": first.isoformat(), "to": last.isoformat(), "video": found}


def set_analytics(
    accounts: AccountStore,
    analytics: AnalyticsStore,
    *,
    uid: str,
    open_id: str,
    body: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Turn the account's collection on or off; off deletes every snapshot it has."""
    reject_unknown(body, ("analytics_enabled",))
    enabled = body.get("analytics_enabled")
    if not isinstance(enabled, bool):
        raise errors.InvalidArgument(
            "analytics_enabled must be true or false", reason="request.analytics_enabled"
        )
    get_account(accounts, uid, open_id)
    changes: dict[str, Any] = {"analytics_enabled": enabled, "updated_at": now}
    before, written = accounts.update_checked(uid, open_id, lambda _: changes)
    if before is None or written is None:
        raise errors.NotFound(f"no connected TikTok account {open_id!r}")
    deleted = 0 if enabled else analytics.delete_all(uid, open_id)
    account = before.replace(analytics_enabled=enabled, updated_at=now)
    return {"account": account.public(), "deleted_snapshots": deleted}
