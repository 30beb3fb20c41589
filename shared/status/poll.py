"""Following a post: ``GET /api/publish/{id}/status``, ``GET /api/posts``, and one TikTok poll.

Polling is honest about freshness instead of failing: when the stored status is not final and
older than :data:`STALE_AFTER`, TikTok's status/fetch is asked, but only while the account's token
has budget left in its one-minute window (TikTok allows 30 calls a minute, docs/tiktok-api.md
§3.6, shared by every instance through Firestore). Without budget, or when TikTok cannot be
reached, the stored status is answered with ``stale: true`` and a ``retry_after`` hint rather
than a 429. A final status is never polled again.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import call_tiktok, get_account
from shared.publishing.posts import public_post
from shared.status.order import POLLABLE, RANK, Observation

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.accounts import AccountStore
    from shared.store.documents import PostDoc
    from shared.store.status import StatusStore
    from shared.tiktok.client import PublishStatus, TikTokClient

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=3)
# Below TikTok's 30 a minute, leaving room for the sweep and for clock skew between instances.
POLL_LIMIT = 25
POLL_WINDOW_SECONDS = 60.0
PAGE_SIZE = 20
# What GET /api/posts?status= accepts: every status a post can have. SCHEDULED and CANCELLED are
# the HTTP contract's scheduled-post states, filterable before the first such post exists.
HISTORY_STATUSES = (*RANK, "SCHEDULED", "CANCELLED")
_OPEN_ID_MAX = 256


@dataclass(frozen=True)
class Tracker:
    """The collaborators following a post needs, built once per instance by the composition.

    The vault and the TikTok client are built on first use: answering a final or fresh status
    never needs them, so that path does not load KMS or the HTTP client on a cold start.
    """

    status: StatusStore
    accounts: AccountStore
    make_vault: Callable[[], Vault]
    make_tiktok: Callable[[], TikTokClient]

    @property
    def vault(self) -> Vault:
        return self.make_vault()

    @property
    def tiktok(self) -> TikTokClient:
        return self.make_tiktok()


def observation(answer: PublishStatus, source: str) -> Observation:
    """TikTok's status/fetch answer as an observation (post ids already strings)."""
    return Observation(
        source=source,
        status=answer.get("status"),
        fail_reason=answer.get("fail_reason"),
        post_ids=tuple(answer.get("post_ids", ())),
        uploaded_bytes=answer.get("uploaded_bytes"),
        downloaded_bytes=answer.get("downloaded_bytes"),
    )


def ask_tiktok(t: Tracker, doc: PostDoc, *, source: str, now: datetime) -> PublishStatus | None:
    """One status/fetch for the post ``doc`` within the token's budget; None without budget.

    Errors from TikTok or the token store are raised; an authorization TikTok says is gone
    flags the account for reconnecting first.
    """

    uid, open_id = doc["uid"], doc["open_id"]
    account = get_account(t.accounts, uid, open_id)
    if not t.status.take_poll(uid, open_id, now, POLL_LIMIT, POLL_WINDOW_SECONDS):
        return None
    publish_id = doc["publish_id"]
    if publish_id is None:  # callers ask only for posts TikTok has: this is a bug
        raise errors.Internal(f"post {doc['post_id']!r} is {doc['status']} without a publish_id")
    return call_tiktok(
        t.accounts,
        t.vault,
        t.tiktok,
        account,
        lambda token: t.tiktok.fetch_status(token, publish_id),
        now=now,
    )


def get_status(t: Tracker, *, uid: str, post_id: str, now: datetime) -> dict[str, Any]:
    """The post's status, refreshed from TikTok when stale and not final (see module doc)."""
    doc = t.status.get_post(uid, post_id)
    if doc is None:
        raise errors.NotFound(f"no post {post_id!r}", reason="post")
    last = max(doc.get("updated_at") or now, doc.get("status_checked_at") or doc["created_at"])
    fresh = now - last < STALE_AFTER
    if doc.get("status") not in POLLABLE or not doc.get("publish_id") or fresh:
        return _answer(post_id, doc, now, stale=False)
    try:
        answer = ask_tiktok(t, doc, source="poll", now=now)
    except errors.AppError as exc:
        # A stored status with a warning is more useful to a progress bar than an error page.
        log.warning(
            "status poll failed; answering the stored status",
            extra={"post_id": post_id, "code": exc.code, "reason": exc.reason},
        )
        return _answer(post_id, doc, now, stale=True, retry_after=10, stale_reason=exc.reason)
    if answer is None:
        return _answer(post_id, doc, now, stale=True, retry_after=5, stale_reason="poll_budget")
    applied = t.status.apply(
        uid, post_id, observation(answer, "poll"), now, extra={"status_checked_at": now}
    )
    if applied is None:
        raise errors.NotFound(f"no post {post_id!r}", reason="post")
    before, changes = applied
    return _answer(post_id, {**before, **changes}, now, stale=False)


def _answer(
    post_id: str,
    doc: PostDoc,
    now: datetime,
    *,
    stale: bool,
    retry_after: int | None = None,
    stale_reason: str | None = None,
) -> dict[str, Any]:
    post = public_post(post_id, doc)
    post["stale"] = stale
    post["final"] = doc.get("status") not in POLLABLE
    if doc.get("upload_plan"):
        # A chunk request still holds the upload (one whose client went away is being wound
        # down): resuming waits until it is released, rather than racing it into a 409.
        held = doc.get("chunk_claim_until")
        post["chunk_in_progress"] = held is not None and held > now
    if stale:
        post["retry_after"] = retry_after
        post["stale_reason"] = stale_reason
    return {"post": post}


# History -----------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, post_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), post_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, post id) an opaque cursor names; INVALID_ARGUMENT for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, post_id = json.loads(raw)
        if not isinstance(post_id, str) or not post_id or "/" in post_id:
            raise ValueError("bad post id")
        return datetime.fromisoformat(created), post_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise errors.InvalidArgument(
            "cursor is not one this API returned", reason="request.cursor"
        ) from None


def list_posts(
    store: StatusStore,
    *,
    uid: str,
    cursor: str | None,
    status: str | None = None,
    open_id: str | None = None,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of the user's post history, newest first, with the cursor of the next page;
    only posts in ``status`` and/or of account ``open_id`` when given. Only the user's own posts
    are ever read (``users/{uid}/posts``), whatever ``open_id`` names (promise P4)."""
    if status is not None and status not in HISTORY_STATUSES:
        raise errors.InvalidArgument(
            f"status must be one of {', '.join(HISTORY_STATUSES)}", reason="request.status"
        )
    if open_id is not None and not (0 < len(open_id) <= _OPEN_ID_MAX and open_id.isprintable()):
        raise errors.InvalidArgument(
            "open_id must be a TikTok account's open_id", reason="request.open_id"
        )
    from shared.users.deletion import user_deleted

    if not store.user_is_live(uid):  # a deletion under way: nothing of it is served
        raise user_deleted()
    after = decode_cursor(cursor) if cursor else None
    found = store.history(uid, page_size + 1, after, status=status, open_id=open_id)
    page = found[:page_size]
    posts = [public_post(post_id, doc) for post_id, doc in page]
    next_cursor = None
    if len(found) > page_size:
        last_id, last = page[-1]
        next_cursor = encode_cursor(last["created_at"], last_id)
    return {"posts": posts, "next_cursor": next_cursor}
