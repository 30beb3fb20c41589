"""Publishing: ``POST /api/publish`` from validation to TikTok's init (drafts live in drafts.py),
or, with ``schedule_at``, to a post stored as ``SCHEDULED`` that ``shared/publishing/due.py``
sends when it is due.

Never a duplicate post (docs/architecture.md, safety rules): the post is recorded before init,
TikTok's ``publish_id`` is stored the moment init returns, an init whose outcome is unknown is
recorded as ``UNKNOWN`` and not retried (``send.py``, shared with scheduled posts), and an
``Idempotency-Key`` returns the first result.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import call_tiktok, get_account, mark_if_unusable
from shared.publishing import staged
from shared.publishing.chunks import plan_chunks, request_limit
from shared.publishing.drafts import live_draft
from shared.publishing.posts import new_post_doc, public_post, scheduled_fields
from shared.publishing.rules import (
    REQUEST_FIELDS,
    PublishRequest,
    check_against_creator,
    parse_request,
)
from shared.publishing.schedule import SCHEDULE_FIELDS, parse_schedule, wants_schedule
from shared.publishing.send import InitRefused, initialise
from shared.status.sweep import stalled_init_check
from shared.store.posts import DraftConfirmed, KeyClaimed, PostStore, idempotency_id
from shared.tokens.fresh import fresh_access_token
from shared.users.deletion import user_deleted
from shared.web.fields import reject_unknown

if TYPE_CHECKING:
    from collections.abc import Callable

    from shared.crypto.vault import Vault
    from shared.media.service import Staging
    from shared.media.tokens import MediaTokens
    from shared.store.accounts import AccountStore
    from shared.store.documents import IdempotencyDoc
    from shared.store.status import StatusStore
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

IDEMPOTENCY_TTL = timedelta(hours=24)
# Seconds from reserving the upload URL's encryption to using it: beyond the TikTok client's worst
# case for an init (a 5 s connect and 20 s read, sent once) and the Firestore writes around it.
INIT_WORST_CASE = 60.0
_SCOPE_FOR_MODE = {"direct": "video.publish", "inbox": "video.upload"}


@dataclass(frozen=True)
class Publisher:
    """The collaborators publishing needs, built once per instance by the composition module."""

    posts: PostStore
    accounts: AccountStore
    vault: Vault
    tiktok: TikTokClient
    status: StatusStore
    chunk_limit: int
    loopback_media: bool = False
    app_origin: str = ""
    schedule_max_days: int = 30
    # Staged media (built on first use: an instance that never publishes one needs no bucket).
    make_staging: Callable[[], Staging] | None = None
    make_media_tokens: Callable[[], MediaTokens] | None = None

    def staging(self) -> Staging:
        if self.make_staging is None:
            raise errors.Internal("this publisher has no media staging")
        return self.make_staging()

    def media_tokens(self) -> MediaTokens:
        if self.make_media_tokens is None:
            raise errors.Internal("this publisher has no media URL keys")
        return self.make_media_tokens()


# Publish -------------------------------------------------------------------------------------


def publish(
    p: Publisher,
    *,
    uid: str,
    body: Mapping[str, Any],
    idempotency_key: str | None,
    now: datetime,
) -> tuple[bool, dict[str, Any]]:
    """Validate, call TikTok's init once, record the post; returns (replayed, public post).

    With ``schedule_at`` the post is validated the same way (fresh creator info now) and stored
    as ``SCHEDULED`` instead: the init is sent when it is due (``due.py``).
    """
    reject_unknown(body, (*REQUEST_FIELDS, "draft_id", *SCHEDULE_FIELDS))
    draft_id = body.get("draft_id")
    if draft_id is not None and (not isinstance(draft_id, str) or not draft_id):
        raise errors.InvalidArgument("draft_id must be a draft's id", reason="request.draft_id")
    schedule = None
    if wants_schedule(body):
        schedule = parse_schedule(body, now=now, max_days=p.schedule_max_days)
    fields = {name: value for name, value in body.items() if name not in SCHEDULE_FIELDS}
    merged = _with_draft(p, uid, draft_id, fields, now) if draft_id else fields
    request = parse_request(merged, loopback_http=p.loopback_media)
    if schedule is not None and request.media.source == "FILE_UPLOAD":
        raise errors.InvalidArgument(
            "a video from the device cannot be scheduled as a file upload: stage it first "
            "(POST /api/media), then schedule it as media {type: video, source: staged, media_id}",
            reason="schedule.file_upload",
            field="media.source",
        )
    limit = request_limit(request.media.chunk_size, p.chunk_limit)

    key_id = None
    if idempotency_key is not None:
        key_id = idempotency_id(uid, idempotency_key)
        replay = _claim_key(p, uid, key_id, body, now)
        if replay is not None:
            return True, replay

    post_id = p.posts.new_post_id(uid)
    draft_claimed = staged_taken = False
    try:
        account = get_account(p.accounts, uid, request.open_id)
        check_scope(account.scopes, request)
        token = fresh_access_token(p.accounts, p.vault, p.tiktok, account, now=now)
        if request.media.staged:
            due = schedule.at if schedule else None
            request = staged.take(p.staging(), uid, post_id, request, now, due=due)
            staged_taken = True
        if request.needs_creator_info:
            creator = call_tiktok(
                p.accounts, p.vault, p.tiktok, account, p.tiktok.creator_info, now=now
            )
            check_against_creator(request, creator)
        if draft_id:
            try:
                p.posts.confirm_draft(uid, draft_id, post_id, now)
            except DraftConfirmed as claimed:
                raise errors.Aborted(
                    "this draft was already confirmed",
                    reason="draft.already_confirmed",
                    post_id=claimed.post_id,
                ) from None
            draft_claimed = True
        plan = plan_chunks(request.media.size, limit) if request.media.size else None
        # A file upload's init answers with an upload URL we must store encrypted: that one
        # encryption is reserved now, so a KMS outage fails this request before TikTok has the
        # post, not after (leaving a post TikTok holds and no way to upload to it).
        sealer = p.vault.reserve(1, hold=INIT_WORST_CASE) if plan else None
        doc = new_post_doc(
            uid,
            post_id,
            request,
            plan=plan.public() if plan else None,
            draft_id=draft_id,
            idempotency_id=key_id,
            # When the sweep settles the post, should this instance die during init.
            status_check_at=stalled_init_check(now),
            now=now,
        )
        if schedule is not None:
            doc.update(scheduled_fields(schedule, now))
        p.posts.create_post(uid, post_id, doc)
    except BaseException:
        _release(p, uid, key_id, draft_id if draft_claimed else None, post_id)
        if staged_taken:
            p.staging().media.release(uid, post_id, now)
        raise
    if not p.posts.user_is_live(uid):  # written, then re-checked: shared/users/deletion.py
        p.posts.delete_post(uid, post_id)
        _release(p, uid, key_id, draft_id if draft_claimed else None, post_id)
        raise user_deleted()
    if schedule is not None:
        if key_id:
            p.posts.finish_idempotency(key_id, post_id)
        log.info("post scheduled", extra={"post_id": post_id, "schedule_at": schedule.at})
        return False, public_post(post_id, doc)

    # TikTok's 6 inits a minute are the token's, whoever sends them: the due run reads this.
    p.posts.schedules.record_init(uid, request.open_id, now)
    try:
        recorded = initialise(
            p,
            token,
            uid=uid,
            post_id=post_id,
            doc=doc,
            request=request,
            plan=plan.public() if plan else None,
            sealer=sealer,
            key_id=key_id,
            now=now,
        )
    except InitRefused as refused:  # Nothing reached TikTok: the user may fix it and try again.
        p.posts.delete_post(uid, post_id)
        _release(p, uid, key_id, draft_id, post_id)
        if request.media.staged:
            p.staging().media.release(uid, post_id, now)
        mark_if_unusable(p.accounts, account, refused.error, now)
        if refused.error.reason == "tiktok.rate_limit_exceeded":  # nor will the due run now
            p.posts.schedules.fill_init_window(uid, request.open_id, now)
        raise refused.error from refused.error.__cause__
    return False, recorded


def _with_draft(
    p: Publisher, uid: str, draft_id: str, body: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The draft's request with the confirming body's choices on top."""
    draft = live_draft(p.posts, uid, draft_id, now)
    if draft.get("confirmed_post_id"):
        raise errors.Aborted(
            "this draft was already confirmed",
            reason="draft.already_confirmed",
            post_id=draft["confirmed_post_id"],
        )
    stored: dict[str, Any] = {**draft["request"]}
    if body.get("open_id") not in (None, stored.get("open_id")):
        raise errors.InvalidArgument(
            "open_id differs from the draft's account", reason="request.open_id"
        )
    merged = {**stored, **{k: v for k, v in body.items() if k != "draft_id"}}
    if isinstance(stored.get("post"), dict) and isinstance(body.get("post"), dict):
        merged["post"] = {**stored["post"], **body["post"]}
    return merged


def check_scope(scopes: tuple[str, ...], request: PublishRequest) -> None:
    needed = _SCOPE_FOR_MODE[request.mode]
    if needed not in scopes:
        raise errors.FailedPrecondition(
            f"this TikTok account did not grant {needed}; reconnect it and allow posting",
            reason="account.scope_missing",
        )


def _claim_key(
    p: Publisher, uid: str, key_id: str, body: Mapping[str, Any], now: datetime
) -> dict[str, Any] | None:
    """Claim the key, or return the first request's post when it already succeeded."""
    request_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    record: IdempotencyDoc = {
        "uid": uid,
        "request_hash": request_hash,
        "state": "pending",
        "post_id": None,
        "created_at": now,
        "expire_at": now + IDEMPOTENCY_TTL,
    }
    try:
        p.posts.claim_idempotency(key_id, record)
    except KeyClaimed as claimed:
        first = claimed.first
        in_progress = errors.Aborted(
            "a request with this Idempotency-Key is still in progress; retry shortly",
            reason="idempotency.in_progress",
        )
        if first is None:  # the first request released the key just now: a retry may claim it
            raise in_progress from None
        if first["request_hash"] != request_hash:
            raise errors.InvalidArgument(
                "this Idempotency-Key was already used for a different request",
                reason="idempotency.key_reused",
            ) from None
        post_id = first["post_id"]
        stored = p.posts.get_post(uid, post_id) if post_id is not None else None
        if first["state"] != "done" or stored is None or post_id is None:
            raise in_progress from None
        return public_post(post_id, stored)
    return None


def _release(
    p: Publisher, uid: str, key_id: str | None, draft_id: str | None, post_id: str
) -> None:
    """Nothing reached TikTok: let the user fix the request and try again with the same key."""
    if key_id:
        p.posts.release_idempotency(key_id)
    if draft_id:
        p.posts.release_draft(uid, draft_id, post_id)
