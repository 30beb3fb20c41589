"""The sweep for missed webhooks, run by its own scheduled job (`sweep_status`, shared/jobs.py).

TikTok's webhooks are best effort (docs/tiktok-api.md §5.1): a post may stay ``PROCESSING_*`` here
although TikTok finished it. Each post still processing carries ``status_check_at``; the sweep asks
status/fetch for the posts whose check is due (within each token's budget), then pushes the next
check out with exponential backoff (:data:`FIRST_CHECK` doubling up to :data:`MAX_INTERVAL`).
How long a publish_id stays queryable is undocumented (§9), so after :data:`GIVE_UP_AFTER` a post
still unresolved ends ``FAILED`` with ``fail_reason`` :data:`~shared.status.order.GAVE_UP`; a later
terminal answer from TikTok still replaces that verdict.

A file upload whose chunks stopped arriving is checked no later than its upload URL's expiry, and
once that hour is over it ends ``FAILED`` with ``upload_abandoned`` (and TikTok is asked to
cancel it): no chunk can reach TikTok any more (shared/publishing/abandon.py).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import errors
from shared.publishing.abandon import expired_upload, settle_expired, unfinished_upload
from shared.status.order import GAVE_UP, UPLOAD_URL_LOST, Observation, upload_stranded
from shared.status.poll import Tracker, ask_tiktok, observation

if TYPE_CHECKING:
    from shared.store.documents import PostChanges, PostDoc

log = logging.getLogger(__name__)

FIRST_CHECK = timedelta(minutes=2)  # Webhooks normally arrive well within this.
MAX_INTERVAL = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
# A post still INITIALIZING this long after it was recorded lost its instance during TikTok's init
# (whose read timeout is far shorter): TikTok may or may not have the post, so it becomes UNKNOWN,
# and is never initialised again.
STALLED_INIT = timedelta(minutes=10)
SWEEP_LIMIT = (
    200  # posts per run; the rest wait for the next run (every 10 minutes, shared/jobs.py)
)


def stalled_init_check(now: datetime) -> datetime:
    """When the sweep should look at a post being initialised, should its init never return."""
    return now + STALLED_INIT


def first_check(now: datetime) -> datetime:
    """When the sweep should first look at a post whose init just returned."""
    return now + FIRST_CHECK


def next_check(now: datetime, checks: int) -> datetime:
    interval: timedelta = min(FIRST_CHECK * (2 ** max(0, checks)), MAX_INTERVAL)
    return now + interval


def run_sweep(t: Tracker, *, now: datetime, limit: int = SWEEP_LIMIT) -> Counter[str]:
    """Check every due post once; returns how many ended in each outcome (also logged)."""
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    for post_id, doc in t.status.due_posts(now, limit):
        try:
            outcomes[_check(t, post_id, doc, now)] += 1
        except errors.AppError as exc:
            outcomes[f"error:{exc.reason or exc.code}"] += 1
            _reschedule(t, post_id, doc, now)
    log.info(
        "status sweep finished",
        extra={"outcomes": dict(outcomes), "seconds": round(time.monotonic() - started, 3)},
    )
    return outcomes


def _check(t: Tracker, post_id: str, doc: PostDoc, now: datetime) -> str:
    uid = doc["uid"]
    created = doc.get("created_at") or now
    if doc.get("status") == "INITIALIZING":
        settled = t.status.settle_stalled_init(uid, post_id, now)
        if settled:
            log.warning("an init never recorded its outcome", extra={"post_id": post_id})
        return "init_unknown" if settled else "unchanged"
    if expired_upload(doc, now):
        return "abandoned" if settle_expired(t, uid=uid, post_id=post_id, now=now) else "unchanged"
    if now - created >= GIVE_UP_AFTER:
        seen = Observation(source="sweep", status="FAILED", fail_reason=GAVE_UP)
        t.status.apply(uid, post_id, seen, now, extra={"status_checked_at": now})
        log.warning("gave up following a post", extra={"post_id": post_id})
        return "gave_up"
    if upload_stranded(doc):
        lost = Observation(source="sweep", status="FAILED", fail_reason=UPLOAD_URL_LOST)
        t.status.apply(uid, post_id, lost, now, extra={"status_checked_at": now})
        log.warning("a file upload has no upload URL; failed", extra={"post_id": post_id})
        return UPLOAD_URL_LOST
    answer = ask_tiktok(t, doc, source="sweep", now=now)
    if answer is None:
        return "no_budget"  # status_check_at unchanged: the next run tries again first.
    checks = int(doc.get("status_checks") or 0) + 1
    extra: PostChanges = {
        "status_checked_at": now,
        "status_checks": checks,
        "status_check_at": _upload_bound(doc, next_check(now, checks)),
    }
    applied = t.status.apply(uid, post_id, observation(answer, "sweep"), now, extra=extra)
    if applied is None:
        return "deleted"
    return "moved" if "status" in applied[1] else "unchanged"


def _upload_bound(doc: PostDoc, check_at: datetime) -> datetime:
    """No later than the upload URL's expiry for an unfinished upload, so it is settled then."""
    expires = doc.get("upload_expires_at")
    if unfinished_upload(doc) and isinstance(expires, datetime):
        return min(check_at, expires)
    return check_at


def _reschedule(t: Tracker, post_id: str, doc: PostDoc, now: datetime) -> None:
    """After an error, back off like an unchanged answer so one bad post cannot hog the sweep."""
    checks = int(doc.get("status_checks") or 0) + 1
    extra: PostChanges = {
        "status_checks": checks,
        "status_check_at": _upload_bound(doc, next_check(now, checks)),
    }
    t.status.apply(doc["uid"], post_id, Observation(source="sweep"), now, extra=extra)
