"""Publishing: ``POST /api/publish`` from validation to TikTok's init (drafts live in drafts.py).

Never a duplicate post (docs/architecture.md, safety rules): the post is recorded before init,
TikTok's ``publish_id`` is stored the moment init returns, an init whose outcome is unknown is
recorded as ``UNKNOWN`` and not retried, and an ``Idempotency-Key`` returns the first result.
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
from shared.crypto.fields import seal
from shared.publishing import staged
from shared.publishing.chunks import plan_chunks, request_limit
from shared.publishing.drafts import live_draft
from shared.publishing.posts import new_post_doc, public_post
from shared.publishing.rules import (
    REQUEST_FIELDS,
    PublishRequest,
    check_against_creator,
    parse_request,
)
from shared.status.sweep import first_check, stalled_init_check
from shared.store.posts import AlreadyClaimed, PostStore, idempotency_id, post_path
from shared.store.status import StatusStore
from shared.tokens.fresh import fresh_access_token
from shared.users.deletion import user_deleted
from shared.web.fields import reject_unknown

if TYPE_CHECKING:
    from collections.abc import Callable

    from shared.crypto.vault import Encryptor, Vault
    from shared.media.service import Staging
    from shared.media.tokens import MediaTokens
    from shared.store.accounts import AccountStore
    from shared.tiktok.client import InitResult, TikTokClient

log = logging.getLogger(__name__)

IDEMPOTENCY_TTL = timedelta(hours=24)
UPLOAD_URL_TTL = timedelta(hours=1)  # TikTok's upload_url is valid for one hour (§3.2).
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
    """Validate, call TikTok's init once, record the post; returns (replayed, public post)."""
    reject_unknown(body, (*REQUEST_FIELDS, "draft_id"))
    draft_id = body.get("draft_id")
    if draft_id is not None and (not isinstance(draft_id, str) or not draft_id):
        raise errors.InvalidArgument("draft_id must be a draft's id", reason="request.draft_id")
    merged = _with_draft(p, uid, draft_id, body, now) if draft_id else dict(body)
    request = parse_request(merged, loopback_http=p.loopback_media)
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
        _check_scope(account.scopes, request)
        token = fresh_access_token(p.accounts, p.vault, p.tiktok, account, now=now)
        if request.media.staged:
            request = staged.take(p.staging(), uid, post_id, request, now)
            staged_taken = True
        if request.needs_creator_info:
            creator = call_tiktok(
                p.accounts, p.vault, p.tiktok, account, p.tiktok.creator_info, now=now
            )
            check_against_creator(request, creator)
        if draft_id:
            try:
                p.posts.confirm_draft(uid, draft_id, post_id, now)
            except AlreadyClaimed as claimed:
                raise errors.Aborted(
                    "this draft was already confirmed",
                    reason="draft.already_confirmed",
                    post_id=claimed.existing.get("confirmed_post_id"),
                ) from None
            draft_claimed = True
        plan = plan_chunks(request.media.size, limit) if request.media.size else None
        # A file upload's init answers with an upload URL we must store encrypted: that one
        # encryption is reserved now, so a KMS outage fails this request before TikTok has the
        # post, not after (leaving a post TikTok holds and no way to upload to it).
        sealer = p.vault.reserve(1, hold=INIT_WORST_CASE) if plan else None
        doc = new_post_doc(uid, post_id, request, plan=plan.public() if plan else None, now=now)
        doc["draft_id"] = draft_id
        doc["idempotency_id"] = key_id
        doc["status_check_at"] = stalled_init_check(now)  # if this instance dies during init
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

    if request.media.staged:
        request = staged.urls(p.media_tokens(), p.app_origin, uid, post_id, request, now)
    try:
        result = _init(p.tiktok, token, request, plan.public() if plan else None)
    except errors.AppError as exc:
        if exc.reason == "tiktok.init_outcome_unknown" or isinstance(exc, errors.DeadlineExceeded):
            _record_unknown(p, uid, key_id, post_id, now)
            raise errors.DeadlineExceeded(
                "TikTok did not confirm this post in time and it was not sent again, to avoid a "
                "duplicate; check the TikTok app before trying again",
                reason="publish.outcome_unknown",
                post_id=post_id,
            ) from exc
        p.posts.delete_post(uid, post_id)
        _release(p, uid, key_id, draft_id, post_id)
        if request.media.staged:
            p.staging().media.release(uid, post_id, now)
        mark_if_unusable(p.accounts, account, exc, now)
        raise
    try:
        recorded = _record_init(p, uid, key_id, post_id, doc, result, sealer, now)
        if not p.posts.user_is_live(uid):
            raise user_deleted()
    except errors.NotFound:  # the user was deleted while TikTok's init ran
        _undo_init(p, token, uid, post_id, result.publish_id)
        raise user_deleted() from None
    return False, recorded


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
    stored: dict[str, Any] = dict(draft["request"])
    if body.get("open_id") not in (None, stored.get("open_id")):
        raise errors.InvalidArgument(
            "open_id differs from the draft's account", reason="request.open_id"
        )
    merged = {**stored, **{k: v for k, v in body.items() if k != "draft_id"}}
    if isinstance(stored.get("post"), dict) and isinstance(body.get("post"), dict):
        merged["post"] = {**stored["post"], **body["post"]}
    return merged


def _check_scope(scopes: tuple[str, ...], request: PublishRequest) -> None:
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
    record = {
        "uid": uid,
        "request_hash": request_hash,
        "state": "pending",
        "post_id": None,
        "created_at": now,
        "expire_at": now + IDEMPOTENCY_TTL,
    }
    try:
        p.posts.claim_idempotency(key_id, record)
    except AlreadyClaimed as claimed:
        first = claimed.existing
        if first.get("request_hash") != request_hash:
            raise errors.InvalidArgument(
                "this Idempotency-Key was already used for a different request",
                reason="idempotency.key_reused",
            ) from None
        post_id = first.get("post_id")
        stored = p.posts.get_post(uid, post_id) if isinstance(post_id, str) else None
        if first.get("state") != "done" or stored is None or not isinstance(post_id, str):
            raise errors.Aborted(
                "a request with this Idempotency-Key is still in progress; retry shortly",
                reason="idempotency.in_progress",
            ) from None
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


def _init(
    tiktok: TikTokClient, token: str, request: PublishRequest, plan: dict[str, int] | None
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
    doc: dict[str, Any],
    result: InitResult,
    sealer: Encryptor | None,
    now: datetime,
) -> dict[str, Any]:
    """Store publish_id with the encrypted upload URL in one write, then close the key."""
    status = "PROCESSING_UPLOAD" if result.upload_url else "PROCESSING_DOWNLOAD"
    changes: dict[str, Any] = {"publish_id": result.publish_id, "status": status, "updated_at": now}
    changes["status_check_at"] = first_check(now)  # when the sweep looks if no webhook came
    if result.upload_url:
        path = post_path(uid, post_id)
        changes["upload_url_enc"] = seal(sealer or p.vault, path, "upload_url", result.upload_url)
        changes["upload_expires_at"] = now + UPLOAD_URL_TTL
    p.posts.update_post(uid, post_id, changes)
    doc.update(changes)
    # The pointer a webhook finds this post by (deleting the post deletes it: status_store.py).
    p.status.put_pointer(result.publish_id, uid=uid, post_id=post_id, open_id=doc["open_id"])
    if key_id:
        p.posts.finish_idempotency(key_id, {"state": "done", "post_id": post_id})
    log.info("publish initialised", extra={"post_id": post_id, "publish_id": result.publish_id})
    return public_post(post_id, doc)


def _record_unknown(
    p: Publisher, uid: str, key_id: str | None, post_id: str, now: datetime
) -> None:
    p.posts.update_post(
        uid,
        post_id,
        {"status": "UNKNOWN", "fail_reason": "init_outcome_unknown", "updated_at": now},
    )
    if key_id:
        p.posts.finish_idempotency(key_id, {"state": "done", "post_id": post_id})
    log.warning("publish init outcome unknown; not retried", extra={"post_id": post_id})
