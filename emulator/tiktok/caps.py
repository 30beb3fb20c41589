"""The daily caps of Direct Post (docs/tiktok-api.md §4.4), read by creator info and by the inits.

TikTok enforces them at init (HTTP 403) and says so beforehand in creator info (HTTP 200 with
the same error code, §3.1): a creator who reached the daily post cap is told by creator info that
they cannot post, not only refused when they try. Both answers come from :func:`direct_cap`, so
they always agree. Call it holding the world's lock.
"""

from __future__ import annotations

from emulator.tiktok.publishes import FAILED, PublishBook
from emulator.tiktok.state import Config

DAY = 86400.0
DIRECT = "DIRECT_POST"


def direct_cap(open_id: str, cfg: Config, book: PublishBook, now: float) -> str | None:
    """The daily cap a Direct Post by ``open_id`` would break now: ``reached_active_user_cap``
    (an unaudited app's creators of the day are all taken, and this one is not among them),
    ``spam_risk_too_many_posts`` (this creator's Direct Posts of the last 24 hours), or None."""
    since = now - DAY
    if not cfg.audited:
        creators = {
            p.open_id
            for p in book.by_id.values()
            if p.mode == DIRECT and p.created_at > since and p.status != FAILED
        }
        if open_id not in creators and len(creators) >= cfg.unaudited_user_cap:
            return "reached_active_user_cap"
    posts = book.count(open_id, since, lambda p: p.mode == DIRECT and p.status != FAILED)
    if posts >= cfg.daily_post_cap:
        return "spam_risk_too_many_posts"
    return None
