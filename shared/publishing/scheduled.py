"""Changing a scheduled post before it is sent: ``PATCH`` (time, settings) and ``DELETE`` (cancel).

Both act only while the post is ``SCHEDULED``. Each change is decided from the post as read and
written only if the post is still that version (``ScheduleStore.change``), so an edit or a cancel
racing the due run's claim either lands before it (the run then sees the new version, or a
cancelled post it never sends) or finds the post already being sent and gets 409 naming why.
An edit is checked by the same rules as the request that scheduled it, against fresh creator info.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import call_tiktok, get_account
from shared.publishing import staged
from shared.publishing.posts import public_post, request_body
from shared.publishing.rules import check_against_creator, parse_request
from shared.publishing.schedule import SCHEDULE_FIELDS, Schedule, parse_schedule
from shared.store.posts import CANCELLED, SCHEDULED
from shared.store.scheduled import ScheduleStore, Versioned
from shared.web.fields import reject_unknown

if TYPE_CHECKING:
    from shared.publishing.publish import Publisher
    from shared.store.documents import PostChanges, PostDoc

log = logging.getLogger(__name__)

EDIT_FIELDS = (*SCHEDULE_FIELDS, "post")
_ATTEMPTS = 3
DISCONNECTED = "account.disconnected"  # why a disconnect cancelled a post (its event's reason)
_PAGE = 100
_ROUNDS = 50  # pages read by one disconnect: far beyond what 30 days of scheduling can hold


def edit_scheduled(
    p: Publisher, *, uid: str, post_id: str, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """``PATCH /api/publish/{id}``: the post with the new time and/or settings, checked again."""
    reject_unknown(body, EDIT_FIELDS)
    if not body:
        raise errors.InvalidArgument(
            f"nothing to change: send one of {', '.join(EDIT_FIELDS)}", reason="request.empty"
        )
    if "post" in body and not isinstance(body["post"], dict):
        raise errors.InvalidArgument("post must be an object", reason="request.post", field="post")
    store = p.posts.schedules
    for _ in range(_ATTEMPTS):
        found = _scheduled(store, uid, post_id, "changed")
        doc = found.doc
        current = Schedule(doc["schedule_at"], doc.get("schedule_tz"))
        schedule = parse_schedule(body, now=now, max_days=p.schedule_max_days, current=current)
        raw = request_body(doc)
        raw["post"] = {**raw["post"], **body.get("post", {})}
        request = parse_request(raw, loopback_http=p.loopback_media)
        account = get_account(p.accounts, uid, request.open_id)
        if request.needs_creator_info:
            creator = call_tiktok(
                p.accounts, p.vault, p.tiktok, account, p.tiktok.creator_info, now=now
            )
            check_against_creator(request, creator)
        changes: PostChanges = {**request.post.to_doc(), **schedule.fields(), "updated_at": now}
        if schedule.at > current.at and doc.get("media_ids"):
            # Keep the staged media until after the new time (a longer life is harmless if
            # this write then loses a race).
            p.staging().media.extend(uid, post_id, schedule.at + staged.USED_TTL)
        if store.change(uid, found, changes):
            log.info("scheduled post changed", extra={"post_id": post_id})
            return public_post(post_id, {**doc, **changes})
    raise errors.Aborted("the post kept changing; try again", reason="post.contended")


def cancel_scheduled(p: Publisher, *, uid: str, post_id: str, now: datetime) -> dict[str, Any]:
    """``DELETE /api/publish/{id}`` of a scheduled post: ``CANCELLED``, its staged media deleted.
    Cancelling a cancelled post again answers it as it is (a retry after a lost answer)."""
    store = p.posts.schedules
    for _ in range(_ATTEMPTS):
        found = store.read(uid, post_id)
        if found is not None and found.doc.get("status") == CANCELLED:
            return {"post": public_post(post_id, found.doc)}
        found = _scheduled(store, uid, post_id, "cancelled", found)
        changes: PostChanges = {
            "status": CANCELLED,
            "status_source": "user",
            "cancelled_at": now,
            "updated_at": now,
        }
        if store.change(uid, found, changes):
            if found.doc.get("media_ids"):
                delete_media(p, uid, post_id)
            log.info("scheduled post cancelled", extra={"post_id": post_id})
            return {"post": public_post(post_id, {**found.doc, **changes})}
    raise errors.Aborted("the post kept changing; try again", reason="post.contended")


def cancel_account_posts(p: Publisher, *, uid: str, open_id: str, now: datetime) -> int:
    """Disconnecting an account cancels its scheduled posts: each ``CANCELLED`` with
    ``fail_reason`` ``account.disconnected`` (its event says so), its staged media deleted; how
    many. Each cancel is the conditional write a user's cancel is, so a post the due run claimed
    meanwhile is left to it (its init uses the token the disconnect has just revoked, and fails),
    and an edit landing meanwhile is read again and cancelled as edited."""
    store = p.posts.schedules
    changes: PostChanges = {
        "status": CANCELLED,
        "fail_reason": DISCONNECTED,
        "status_source": "user",
        "cancelled_at": now,
        "updated_at": now,
    }
    cancelled = 0
    for _ in range(_ROUNDS):
        page = store.account_scheduled(uid, open_id, _PAGE)
        if not page:
            break
        for post in page:
            if store.change(uid, post, changes):
                cancelled += 1
                if post.doc.get("media_ids"):
                    delete_media(p, uid, post.post_id)
    else:
        raise errors.Aborted(
            "the account's scheduled posts kept changing; disconnect again", reason="post.contended"
        )
    if cancelled:
        log.info("scheduled posts cancelled by a disconnect", extra={"posts": cancelled})
    return cancelled


def delete_media(p: Publisher, uid: str, post_id: str) -> None:
    """The post's staged objects, now that it will never be sent (P17); on a storage failure the
    slot's expiry and the bucket's lifecycle rule still delete them."""
    from shared.media.service import delete_post_media

    try:
        delete_post_media(p.staging(), uid=uid, post_id=post_id)
    except Exception:
        log.exception("deleting a post's staged media failed", extra={"post_id": post_id})


def is_scheduled(doc: PostDoc) -> bool:
    """A post made with ``schedule_at`` (whatever its status now): DELETE cancels it or says why
    it no longer can; it is never a file upload to abandon."""
    return doc.get("schedule_at") is not None


def _scheduled(
    store: ScheduleStore, uid: str, post_id: str, verb: str, found: Versioned | None = None
) -> Versioned:
    found = found or store.read(uid, post_id)
    if found is None:
        raise errors.NotFound(f"no post {post_id!r}", reason="post")
    status = found.doc.get("status")
    if status == SCHEDULED:
        return found
    if status == CANCELLED:
        raise errors.Aborted(
            f"post {post_id!r} was cancelled; it can no longer be {verb}",
            reason="schedule.cancelled",
            status=status,
        )
    if found.doc.get("schedule_at") is not None:
        raise errors.Aborted(
            f"post {post_id!r} can no longer be {verb}: publishing started at its scheduled time "
            f"(it is {status})",
            reason="schedule.publishing_started",
            status=status,
        )
    raise errors.Aborted(
        f"post {post_id!r} is not a scheduled post (it is {status}); only a SCHEDULED post can "
        f"be {verb}",
        reason="schedule.not_scheduled",
        status=status,
    )
