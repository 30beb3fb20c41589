"""How a post's status may change: one order for webhooks, polling and the sweep.

TikTok's statuses (docs/tiktok-api.md §3.6) and our own ``INITIALIZING``, ``UNKNOWN`` form a ladder;
an observation moves a post only upward, so a late or replayed ``PROCESSING_UPLOAD`` after
``PUBLISH_COMPLETE`` changes nothing, and the order in which events arrive does not matter.
``PUBLISH_COMPLETE`` and ``FAILED`` are terminal. ``SEND_TO_USER_INBOX`` is final for polling (the
user may take days to post the draft) but may still be followed by ``PUBLISH_COMPLETE`` (the user
posted it: a ``post.publish.complete`` webhook) or ``FAILED``.

The one exception to "terminal stays": when the sweep gave up (``fail_reason`` =
:data:`GAVE_UP`), TikTok's own terminal answer, arriving later, replaces our guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.store.documents import PostChanges, PostDoc

RANK: dict[str, int] = {
    "INITIALIZING": 0,
    "UNKNOWN": 0,
    "PROCESSING_UPLOAD": 1,
    "PROCESSING_DOWNLOAD": 1,
    "SEND_TO_USER_INBOX": 2,
    "PUBLISH_COMPLETE": 3,
    "FAILED": 3,
}
TERMINAL = frozenset({"PUBLISH_COMPLETE", "FAILED", "CANCELLED"})  # CANCELLED: never sent
# Statuses for which asking TikTok can still teach something (a publish_id exists, not final).
POLLABLE = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD")
# What the sweep looks at: the pollable ones, and posts whose init never recorded an outcome.
SWEPT = (*POLLABLE, "INITIALIZING")
# The sweep's final verdict when TikTok never told us how a publish ended (documented in openapi).
GAVE_UP = "status_unknown_timeout"
# The verdict on a file upload TikTok initialised whose upload URL was never stored (an older
# release stored it in a second write, which a KMS outage could prevent): nothing can ever be
# uploaded to it, so it fails for good instead of waiting for chunks (documented in openapi).
UPLOAD_URL_LOST = "upload_url_lost"


def upload_stranded(doc: PostDoc) -> bool:
    """Whether ``doc`` is a file upload TikTok has (a publish_id) but we have no upload URL for."""
    return (
        doc.get("status") == "PROCESSING_UPLOAD"
        and bool(doc.get("publish_id"))
        and not doc.get("upload_url_enc")
    )


@dataclass(frozen=True)
class Observation:
    """What TikTok said about a publish, through a webhook or status/fetch.

    ``status`` None means the observation carries no status (``publicly_available`` only adds a
    post id). ``source`` is ``webhook``, ``poll``, ``sweep`` or ``upload`` (the chunk route): kept
    on the post for operators.
    """

    source: str
    status: str | None = None
    fail_reason: str | None = None
    post_ids: tuple[str, ...] = ()
    withdrawn_post_ids: tuple[str, ...] = ()
    uploaded_bytes: int | None = None
    downloaded_bytes: int | None = None


def may_move(current: str, current_reason: str | None, new: str) -> bool:
    """Whether a post in ``current`` may take ``new``: upward only, terminal stays terminal."""
    if new not in RANK:
        return False
    if current in TERMINAL:
        return current == "FAILED" and current_reason == GAVE_UP and new in TERMINAL
    return RANK[new] > RANK.get(current, 0)


def _union(old: list[str], new: tuple[str, ...]) -> list[str]:
    merged = list(old)
    merged.extend(p for p in new if p not in merged)
    return merged


def merge(doc: PostDoc, seen: Observation, now: datetime) -> PostChanges:
    """The changes ``seen`` makes to the post ``doc`` (empty when it teaches nothing new)."""
    changes: PostChanges = {}
    current = str(doc.get("status") or "INITIALIZING")
    if seen.status is not None and may_move(current, doc.get("fail_reason"), seen.status):
        changes["status"] = seen.status
        changes["fail_reason"] = seen.fail_reason if seen.status == "FAILED" else None
        changes["status_source"] = seen.source
    ids = [str(p) for p in doc.get("post_ids") or []]
    if seen.post_ids and _union(ids, seen.post_ids) != ids:
        changes["post_ids"] = _union(ids, seen.post_ids)
    withdrawn = [str(p) for p in doc.get("withdrawn_post_ids") or []]
    if seen.withdrawn_post_ids and _union(withdrawn, seen.withdrawn_post_ids) != withdrawn:
        changes["withdrawn_post_ids"] = _union(withdrawn, seen.withdrawn_post_ids)
    for name in ("uploaded_bytes", "downloaded_bytes"):
        value = getattr(seen, name)
        # Progress only grows: an older poll answer must not shrink the progress bar.
        if value is not None and value > (doc.get(name) or 0):
            changes[name] = value
    if changes:
        changes["updated_at"] = now
    return changes
