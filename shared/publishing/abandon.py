"""Ending a file upload that will not finish: abandoned by the user, or left by them.

An upload is unfinished while TikTok's ``upload_url`` still waits for chunks (status
``PROCESSING_UPLOAD``, not every chunk in). ``DELETE /api/publish/{id}`` ends it at once; the
sweep ends one whose chunks stopped arriving once the URL's hour is over (TikTok's upload URL is
valid one hour: tiktok-api.md §3.2). Either way the post becomes ``FAILED`` with ``fail_reason``
``upload_abandoned`` first, then TikTok's cancel is asked, best effort: TikTok may answer
``publish_not_cancellable`` (already final, or processing), and a connection since removed
cannot be used; the post stays abandoned here either way. TikTok's ``publish_cancelled`` webhook
that follows cannot move a post that is already ``FAILED``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.publishing.posts import public_post

if TYPE_CHECKING:
    from shared.status.poll import Tracker
    from shared.store.documents import PostDoc

log = logging.getLogger(__name__)


def unfinished_upload(doc: PostDoc) -> bool:
    """TikTok still waits for this post's chunks."""
    return (
        doc.get("source") == "FILE_UPLOAD"
        and doc.get("status") == "PROCESSING_UPLOAD"
        and not doc.get("upload_complete")
    )


def expired_upload(doc: PostDoc, now: datetime) -> bool:
    """An unfinished upload whose upload URL has expired: no chunk can arrive any more."""
    expires = doc.get("upload_expires_at")
    return unfinished_upload(doc) and expires is not None and expires <= now


def abandon_post(t: Tracker, *, uid: str, post_id: str, now: datetime) -> dict[str, Any]:
    """``DELETE /api/publish/{id}``: abandon the unfinished upload; 409 saying why otherwise."""
    doc = t.status.get_post(uid, post_id)
    if doc is None:
        raise errors.NotFound(f"no post {post_id!r}", reason="post")
    written = t.status.abandon_upload(uid, post_id, now, source="user", still=unfinished_upload)
    if written is None:
        raise _not_cancellable(t.status.get_post(uid, post_id) or doc, post_id)
    cancelled = cancel_at_tiktok(t, written, now)
    log.info("upload abandoned", extra={"post_id": post_id, "cancelled_at_tiktok": cancelled})
    return {"post": public_post(post_id, written), "cancelled_at_tiktok": cancelled}


def settle_expired(t: Tracker, *, uid: str, post_id: str, now: datetime) -> bool:
    """The sweep's part: abandon the upload if its URL has expired; whether it did."""
    written = t.status.abandon_upload(
        uid, post_id, now, source="sweep", still=lambda doc: expired_upload(doc, now)
    )
    if written is None:
        return False
    cancel_at_tiktok(t, written, now)
    log.info("expired upload abandoned", extra={"post_id": post_id})
    return True


def cancel_at_tiktok(t: Tracker, doc: PostDoc, now: datetime) -> bool:
    """Ask TikTok to cancel the post's publish; False (logged) when it could not or would not."""
    from shared.accounts.service import call_tiktok
    from shared.store.accounts import ACTIVE

    account = t.accounts.get(doc["uid"], doc["open_id"])
    publish_id = doc.get("publish_id")
    if account is None or account.status != ACTIVE or not publish_id:
        return False
    try:
        call_tiktok(
            t.accounts,
            t.vault,
            t.tiktok,
            account,
            lambda token: t.tiktok.cancel_publish(token, publish_id),
            now=now,
        )
    except errors.AppError as exc:
        log.warning(
            "cancel at TikTok failed; the post stays abandoned",
            extra={"post_id": doc.get("post_id"), "code": exc.code, "reason": exc.reason},
        )
        return False
    return True


def _not_cancellable(doc: PostDoc, post_id: str) -> errors.AppError:
    status = doc.get("status")
    if status == "PROCESSING_UPLOAD" and doc.get("upload_complete"):
        why = "its upload is complete and TikTok is processing it"
    elif status == "INITIALIZING":
        why = "TikTok has not answered its init yet; try again in a moment"
    elif doc.get("source") != "FILE_UPLOAD" and status == "PROCESSING_DOWNLOAD":
        why = "it is PROCESSING_DOWNLOAD: TikTok pulls its media itself"
    else:
        why = f"it is {status}"
    return errors.Aborted(
        f"post {post_id!r} cannot be cancelled: {why}. Only an unfinished file upload (or a "
        "scheduled post) can be",
        reason="publish.not_cancellable",
        status=status,
    )
