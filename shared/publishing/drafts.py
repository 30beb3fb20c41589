"""Drafts: pending publish requests (e.g. prepared by an assistant) that expire 30 minutes after
creation unless confirmed (promise P8).

A draft holds a complete publish request except the creator's own choices (privacy above all,
which never has a default); confirming it is ``POST /api/publish`` with its ``draft_id``. The
``expire_at`` field drives a Firestore TTL policy, and since TTL deletion runs late (and not at
all in the emulator) every read treats an expired draft as gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from shared import errors
from shared.accounts.service import get_account
from shared.publishing.rules import parse_request

if TYPE_CHECKING:
    from shared.store.accounts import AccountStore
    from shared.store.documents import DraftDoc, DraftRequest
    from shared.store.posts import PostStore

DRAFT_TTL = timedelta(minutes=30)
_KEPT: tuple[Literal["open_id", "mode", "media", "post", "duration_sec"], ...] = (
    "open_id",
    "mode",
    "media",
    "post",
    "duration_sec",
)


# Drafts --------------------------------------------------------------------------------------


def create_draft(
    posts: PostStore,
    accounts: AccountStore,
    *,
    uid: str,
    body: Mapping[str, Any],
    now: datetime,
    loopback_media: bool = False,
) -> dict[str, Any]:
    """Store a complete publish request for the user to confirm within 30 minutes."""
    request = parse_request(body, loopback_http=loopback_media)
    get_account(accounts, uid, request.open_id)
    doc: DraftDoc = {
        "uid": uid,
        "request": draft_request(body),
        "created_at": now,
        "expire_at": now + DRAFT_TTL,
    }
    draft_id = posts.create_draft(uid, doc)
    return _public_draft(draft_id, doc)


def get_draft(posts: PostStore, *, uid: str, draft_id: str, now: datetime) -> dict[str, Any]:
    return _public_draft(draft_id, live_draft(posts, uid, draft_id, now))


def live_draft(posts: PostStore, uid: str, draft_id: str, now: datetime) -> DraftDoc:
    doc = posts.get_draft(uid, draft_id)
    if doc is None or doc["expire_at"] <= now:
        # TTL deletion runs late (and not at all in the emulator): expiry is enforced here.
        raise errors.NotFound(f"draft {draft_id!r} does not exist or has expired", reason="draft")
    return doc


def draft_request(body: Mapping[str, Any]) -> DraftRequest:
    """The fields of a publish body (already checked by ``parse_request``) a draft keeps."""
    request: DraftRequest = {}
    for name in _KEPT:
        if name in body:
            request[name] = body[name]
    return request


def _public_draft(draft_id: str, doc: DraftDoc) -> dict[str, Any]:
    return {
        "id": draft_id,
        **doc["request"],
        "created_at": doc["created_at"].isoformat(),
        "expire_at": doc["expire_at"].isoformat(),
        "confirmed_post_id": doc.get("confirmed_post_id"),
    }
