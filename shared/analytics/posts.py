"""Each published post's current metrics, for the history (``GET /api/posts``).

A post that TikTok made public has ``post_ids``: the ids of its videos (or photo post) on the
account, strings because they exceed 2**53. The account's newest daily snapshot holds the metrics
of its most recent videos (up to ``ANALYTICS_MAX_VIDEOS``); a post's ``metrics`` lists, for each of
its ids found there, that day's ``view_count``, ``like_count``, ``comment_count`` and
``share_count``. One read per account on the page, whatever the number of its posts; a post whose
video is not in the newest snapshot (too old, not public, collection off) has an empty list.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.store.analytics import VIDEO_METRICS

if TYPE_CHECKING:
    from shared.store.analytics import AnalyticsStore


def with_metrics(
    analytics: AnalyticsStore, uid: str, posts: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """``posts`` (public posts of one user) each with its ``metrics`` list added, in place."""
    wanted = {p["open_id"] for p in posts if p.get("post_ids") and p.get("open_id")}
    latest = {open_id: analytics.latest(uid, open_id, now) for open_id in sorted(wanted)}
    for post in posts:
        post["metrics"] = []
        snapshot = latest.get(post.get("open_id") or "")
        if not snapshot or not post.get("post_ids"):
            continue
        videos = {str(v.get("id")): v for v in snapshot.get("videos") or []}
        for post_id in post["post_ids"]:
            video = videos.get(str(post_id))
            if video is not None:
                point = {k: video.get(k) for k in VIDEO_METRICS}
                post["metrics"].append({"id": str(post_id), "date": snapshot["date"], **point})
    return posts
