"""Sending a post to TikTok: the one init call and its record, for posting now and scheduled posts.

Both paths (``POST /api/publish`` now, ``shared/publishing/due.py`` when a scheduled post is due)
end here with a post document already written as ``INITIALIZING``, so the never-a-duplicate rules
(docs/architecture.md, safety rules) hold for both in one place: TikTok's ``publish_id`` is stored
the moment init returns, before anything else; an init whose outcome is unknown (a timeout, a
connection lost after sending) is recorded as ``UNKNOWN`` and never sent again; a refusal TikTok
answered (nothing was created there) is raised as :class:`InitRefused` for the caller to settle.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.crypto.fields import seal
from shared.publishing import staged
from shared.publishing.posts import public_post
from shared.publishing.rules import PublishRequest
from shared.status.sweep import first_check
from shared.store.posts import post_path
from shared.users.deletion import user_deleted

if TYPE_CHECKING:
    from shared.crypto.vault import Encryptor
    from shared.publishing.publish import Publisher
    from shared.store.documents import PostChanges, PostDoc, UploadPlanDoc
    from shared.store.outbox import Event
    from shared.tiktok.client import InitResult, TikTokClient

log = logging.getLogger(__name__)

UPLOAD_URL_TTL = timedelta(hours=1)  # TikTok's upload_url is valid for one hour (§3.2).
OUTCOME_UNKNOWN = "publish.outcome_unknown"


class InitRefused(Exception):
    """TikTok answered the init with a refusal: no post exists there. ``error`` says why."""

    def __init__(self, error: errors.AppError) -> None:
        super().__init__(error.message)
        self.error = error


def initialise(
    p: Publisher,
    token: str,
    *,
    uid: str,
    post_id: str,
    doc: PostDoc,
    request: PublishRequest,
    plan: UploadPlanDoc | None,
    sealer: Encryptor | None = None,
    key_id: str | None = None,
    now: datetime,
    extra: PostChanges | None = None,
    version: Any = None,
    deferred: list[Event] | None = None,
) -> dict[str, Any]:
    """Call TikTok's init once for the recorded post ``doc`` and record its answer; the public
    post. ``extra`` is written with the answer (a scheduled post's lateness).

    ``version``: the update time ``doc`` was written at, when the caller knows it (the record is
    then written without reading the post first). ``deferred``: the status events are collected
    there for the caller to publish (``Outbox.publish_deferred``); on a normal return the user
    was read live after the last of its writes."""
    if request.media.staged:
        request = staged.urls(p.media_tokens(), p.app_origin, uid, post_id, request, now)
    try:
        result = _init(p.tiktok, token, request, plan)
    except errors.AppError as exc:
        if exc.reason == "tiktok.init_outcome_unknown" or isinstance(exc, errors.DeadlineExceeded):
            _record_unknown(p, uid, key_id, post_id, now, (doc.copy(), version), deferred)
            raise errors.DeadlineExceeded(
                "TikTok did not confirm this post in time and it was not sent again, to avoid a "
                "duplicate; check the TikTok app before trying again",
                reason=OUTCOME_UNKNOWN,
                post_id=post_id,
            ) from exc
        raise InitRefused(exc) from exc
    try:
        recorded = _record_init(
            p, uid, key_id, post_id, doc, result, sealer, now, extra or {}, version, deferred
        )
        if not p.posts.user_is_live(uid):
            raise user_deleted()
    except errors.NotFound:  # the user was deleted while TikTok's init ran
        _undo_init(p, token, uid, post_id, result.publish_id)
        raise user_deleted() from None
    return recorded


def _undo_init(p: Publisher, token: str, uid: str, post_id: str, publish_id: str) -> None:
    """Take back an init recorded for a user being deleted: cancel it at TikTok where TikTok
    still allows (best effort: the token may be revoked already), and remove what was written."""
    try:
        p.tiktok.cancel_publish(token, publish_id)
    except errors.AppError as exc:
        log.warning(
            "cancel at TikTok failed for a deleted user's post",
            extra={"post_id": post_id, "code": exc.code, "reason": exc.reason},
        )
    p.status.drop_pointer(publish_id)
    if p.make_staging is not None:
        from shared.media.service import delete_post_media

        delete_post_media(p.staging(), uid=uid, post_id=post_id)
    p.posts.delete_post(uid, post_id)


def _init(
    tiktok: TikTokClient, token: str, request: PublishRequest, plan: UploadPlanDoc | None
) -> InitResult:
    direct = request.mode == "direct"
    media = request.media
    if media.type == "photo":
        return tiktok.init_photos(
            token,
            direct=direct,
            settings=request.post,
            urls=media.photo_urls,
            cover_index=media.cover_index,
        )
    return tiktok.init_video(
        token, direct=direct, settings=request.post, video_url=media.url, upload=plan
    )


def _record_init(
    p: Publisher,
    uid: str,
    key_id: str | None,
    post_id: str,
    doc: PostDoc,
    result: InitResult,
    sealer: Encryptor | None,
    now: datetime,
    extra: PostChanges,
    version: Any,
    deferred: list[Event] | None,
) -> dict[str, Any]:
    """Store publish_id with the encrypted upload URL and the pointer a webhook finds the post
    by (deleting the post deletes it: status_store.py) in one commit, then close the key."""
    status = "PROCESSING_UPLOAD" if result.upload_url else "PROCESSING_DOWNLOAD"
    changes: PostChanges = {"publish_id": result.publish_id, "status": status, "updated_at": now}
    changes.update(extra)
    changes["status_check_at"] = first_check(now)  # when the sweep looks if no webhook came
    if result.upload_url:
        path = post_path(uid, post_id)
        changes["upload_url_enc"] = seal(sealer or p.vault, path, "upload_url", result.upload_url)
        changes["upload_expires_at"] = now + UPLOAD_URL_TTL

    def pointer(writes: Any) -> None:
        p.status.stage_pointer(
            writes, result.publish_id, uid=uid, post_id=post_id, open_id=doc["open_id"]
        )

    known = (doc.copy(), version) if version is not None else None
    p.posts.update_post(uid, post_id, changes, known=known, also=pointer, deferred=deferred)
    doc.update(changes)
    if key_id:
        p.posts.finish_idempotency(key_id, post_id)
    log.info("publish initialised", extra={"post_id": post_id, "publish_id": result.publish_id})
    return public_post(post_id, doc)


def _record_unknown(
    p: Publisher,
    uid: str,
    key_id: str | None,
    post_id: str,
    now: datetime,
    known: tuple[PostDoc, Any],
    deferred: list[Event] | None,
) -> None:
    p.posts.update_post(
        uid,
        post_id,
        {"status": "UNKNOWN", "fail_reason": "init_outcome_unknown", "updated_at": now},
        known=known if known[1] is not None else None,
        deferred=deferred,
    )
    if key_id:
        p.posts.finish_idempotency(key_id, post_id)
    log.warning("publish init outcome unknown; not retried", extra={"post_id": post_id})
