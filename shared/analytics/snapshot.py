"""Taking one account's daily analytics snapshot.

One snapshot per account per UTC day: the account's stats from ``/v2/user/info/`` and its most
recent videos' metrics from ``/v2/video/list/`` (newest first, 20 a page, so ``max_videos`` videos
cost ``ceil(max_videos / 20)`` calls: ``video/query`` could not be cheaper, it too returns at
most 20 a call and needs the ids first). That is the fewest calls TikTok's API allows, reserved
up front in the token's Display API budget. The day is the document id and the write a create,
so redelivery or concurrency never stores a second one; a day already taken costs one read and
no TikTok call, and a day another instance is taking right now (claimed in the same transaction
as the budget) none either. The token comes through
:func:`shared.tokens.fresh.fresh_access_token`, like every call made on the user's behalf.
"""

from __future__ import annotations

import enum
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import call_tiktok
from shared.store.accounts import ACTIVE
from shared.store.analytics import ACCOUNT_STATS, VIDEO_METRICS, AnalyticsStore
from shared.tiktok.models import MAX_COUNT

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.accounts import Account, AccountStore
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

STATS_SCOPE = "user.info.stats"
VIDEOS_SCOPE = "video.list"
# TikTok allows 600 calls a minute on each Display API endpoint (one-minute sliding window);
# the budget stays well below so the videos page and queries of the web app keep room.
DISPLAY_LIMIT = 300
DISPLAY_WINDOW_SECONDS = 60.0
DEFAULT_MAX_VIDEOS = 100


class Outcome(enum.Enum):
    TAKEN = "taken"
    ALREADY_TAKEN = "already_taken"
    DISABLED = "disabled"  # the user turned collection off for this account
    NOT_ACTIVE = "not_active"
    SCOPE_MISSING = "scope_missing"
    NO_BUDGET = "no_budget"
    IN_PROGRESS = "in_progress"  # another instance is taking today's snapshot right now
    GONE = "gone"  # disconnected, or turned off, while the snapshot was taken
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str | None = None
    tiktok_calls: int = 0


@dataclass(frozen=True)
class Snapshotter:
    """What taking snapshots needs, built once per run."""

    accounts: AccountStore
    analytics: AnalyticsStore
    vault: Vault
    tiktok: TikTokClient
    max_videos: int = DEFAULT_MAX_VIDEOS


def calls_needed(max_videos: int, with_videos: bool = True) -> int:
    """TikTok calls for one snapshot: user info, then the video list pages."""
    return 1 + (math.ceil(max_videos / MAX_COUNT) if with_videos and max_videos else 0)


def take_snapshot(s: Snapshotter, account: Account, *, now: datetime) -> Result:
    """Today's (UTC) snapshot of ``account``, unless it has one, is off, or lacks the scope."""
    if account.status != ACTIVE:
        return Result(Outcome.NOT_ACTIVE, f"account.{account.status}")
    if not account.analytics_enabled:
        return Result(Outcome.DISABLED)
    if STATS_SCOPE not in account.scopes:
        reason = f"scope_missing.{STATS_SCOPE}"
        _record_reason(s, account, reason)
        return Result(Outcome.SCOPE_MISSING, reason)
    day = now.date()
    if s.analytics.exists(account.uid, account.open_id, day):
        return Result(Outcome.ALREADY_TAKEN)
    with_videos = VIDEOS_SCOPE in account.scopes
    calls = calls_needed(s.max_videos, with_videos)
    taken = s.analytics.take_calls(
        account.uid,
        account.open_id,
        calls,
        now,
        DISPLAY_LIMIT,
        DISPLAY_WINDOW_SECONDS,
        claim=day.isoformat(),
    )
    if taken == "claimed":
        return Result(Outcome.IN_PROGRESS)
    if taken != "ok":
        return Result(Outcome.NO_BUDGET, "display_budget")
    try:
        stats, videos, made = call_tiktok(
            s.accounts,
            s.vault,
            s.tiktok,
            account,
            lambda token: _collect(s, token, with_videos),
            now=now,
        )
    except errors.AppError as exc:
        return Result(Outcome.FAILED, exc.reason or exc.code)
    created = s.analytics.create(
        account.uid, account.open_id, day, account=stats, videos=videos, now=now
    )
    if not created:
        return Result(Outcome.ALREADY_TAKEN, tiktok_calls=1 + made)
    # Turned off or disconnected while TikTok was asked: what was just stored must not stay.
    current = s.accounts.get(account.uid, account.open_id)
    if current is None or not current.analytics_enabled:
        s.analytics.delete_all(account.uid, account.open_id)
        return Result(Outcome.GONE, tiktok_calls=1 + made)
    missing = None if with_videos else f"scope_missing.{VIDEOS_SCOPE}"
    _record_reason(s, current, missing)
    return Result(Outcome.TAKEN, missing, tiktok_calls=1 + made)


def _collect(
    s: Snapshotter, token: str, with_videos: bool
) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """The account's stats, its recent videos' metrics, and the video calls made for them."""
    info: dict[str, Any] = dict(s.tiktok.user_info(token, list(ACCOUNT_STATS)))
    stats = {k: info[k] for k in ACCOUNT_STATS if isinstance(info.get(k), int)}
    videos, made = _videos(s, token) if with_videos else ([], 0)
    return stats, videos, made


def _videos(s: Snapshotter, token: str) -> tuple[list[dict[str, Any]], int]:
    """The most recent ``max_videos`` videos' metrics (ids as strings), and the calls made."""
    videos: list[dict[str, Any]] = []
    cursor: int | None = None
    calls = 0
    while len(videos) < s.max_videos:
        page = s.tiktok.video_list(
            token, cursor=cursor, max_count=min(MAX_COUNT, s.max_videos - len(videos))
        )
        calls += 1
        for video in page["videos"]:
            item: dict[str, Any] = {"id": str(video["id"])}
            if video.get("title") or video.get("video_description"):
                item["title"] = video.get("title") or video.get("video_description")
            if video.get("create_time") is not None:
                item["create_time"] = video["create_time"]
            item.update({k: video[k] for k in VIDEO_METRICS if k in video})
            videos.append(item)
        if not page["has_more"] or page["cursor"] is None or not page["videos"]:
            break
        cursor = page["cursor"]
    return videos[: s.max_videos], calls


def _record_reason(s: Snapshotter, account: Account, reason: str | None) -> None:
    """Keep why the account's analytics are incomplete on the account, for the web app."""
    if account.analytics_reason != reason:
        changes = {"analytics_reason": reason}
        s.accounts.update_checked(account.uid, account.open_id, lambda _: changes)


def first_snapshot(s: Snapshotter, *, uid: str, open_id: str) -> Result | None:
    """Today's snapshot right after a connect, so the analytics page has a first day; best
    effort: whatever goes wrong is logged and the connect stands (the daily run catches up)."""
    from datetime import UTC

    try:
        account = s.accounts.get(uid, open_id)
        if account is None:
            return None
        result = take_snapshot(s, account, now=datetime.now(UTC))
    except Exception as exc:  # Never fail the connect over analytics.
        code = exc.code if isinstance(exc, errors.AppError) else type(exc).__name__
        log.warning("first analytics snapshot failed", extra={"code": code})
        return None
    if result.outcome is Outcome.FAILED:
        log.warning("first analytics snapshot failed", extra={"reason": result.reason})
    return result
