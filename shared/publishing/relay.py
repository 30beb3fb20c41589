"""The chunk relay: ``PUT /api/publish/{id}/chunks/{n}`` streamed straight to TikTok's upload URL.

The request body is read in small pieces and written to TikTok as it arrives, so an instance holds
at most one piece of one chunk in memory and nothing touches Firestore or disk (promise P9).
Chunks come in order; a claim on the post keeps two requests from sending bytes of one upload at
once. A chunk TikTok already has (a client retry after a lost answer) is answered from the
recorded progress, or from TikTok's own ``Content-Range`` on a 416, and never sent twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from shared import errors
from shared.crypto.fields import unseal
from shared.publishing.chunks import ChunkPlan
from shared.status.order import UPLOAD_URL_LOST, Observation, upload_stranded
from shared.store.posts import AlreadyClaimed, post_path

if TYPE_CHECKING:
    from shared.publishing.publish import Publisher
    from shared.store.documents import PostChanges, PostDoc

log = logging.getLogger(__name__)

PIECE = 1024 * 1024  # Bytes read from the caller and written to TikTok at a time.
CLAIM_TTL = timedelta(minutes=10)  # A claim outlives any healthy chunk transfer.
CLAIM_ATTEMPTS = 3


def relay_chunk(
    p: Publisher,
    *,
    uid: str,
    post_id: str,
    index: int,
    body: IO[bytes],
    content_length: int | None,
    now: datetime,
) -> dict[str, Any]:
    """Relay chunk ``index``; returns ``{uploaded_bytes, total_bytes, complete}``."""
    for _ in range(CLAIM_ATTEMPTS):
        found = p.posts.get_post_versioned(uid, post_id)
        if found is None:
            raise errors.NotFound(f"no post {post_id!r}")
        post, read_at = found
        plan = _plan(post)
        if upload_stranded(post) or post.get("fail_reason") == UPLOAD_URL_LOST:
            _fail_stranded(p, uid, post_id, now)
        if index < _next(post) or post.get("upload_complete"):
            return _progress(post, plan)  # TikTok already has this chunk: a retry, answered as is.
        first, last = _check(post, plan, index, content_length, now)
        try:
            p.posts.claim_chunk(uid, post_id, read_at, now + CLAIM_TTL)
            break
        except AlreadyClaimed:
            continue  # The post changed since it was read (another request, a webhook): re-read.
    else:
        raise errors.Aborted("the post kept changing; retry the chunk", reason="upload.busy")
    try:
        uploaded, complete = _send(p, uid, post_id, post, body, first, last, plan)
    except BaseException:
        with contextlib.suppress(errors.NotFound):  # a deleted post has no claim to release
            p.posts.update_post(uid, post_id, {"chunk_claim_until": None})
        raise
    next_chunk = _chunks_covered(plan, uploaded)
    changes: PostChanges = {
        "uploaded_bytes": uploaded,
        "next_chunk": next_chunk,
        "upload_complete": complete,
        "chunk_claim_until": None,
        "updated_at": now,
    }
    p.posts.update_post(uid, post_id, changes)
    post.update(changes)
    return _progress(post, plan)


def _fail_stranded(p: Publisher, uid: str, post_id: str, now: datetime) -> None:
    """TikTok has this post but its upload URL was never stored: fail it, for good and clearly."""
    lost = Observation(source="upload", status="FAILED", fail_reason=UPLOAD_URL_LOST)
    p.status.apply(uid, post_id, lost, now)
    log.warning("a file upload has no upload URL; failed", extra={"post_id": post_id})
    raise errors.FailedPrecondition(
        "TikTok's upload URL for this post was lost, so it can never be uploaded; the post has "
        "failed: start a new post",
        reason="upload.url_lost",
    )


def _plan(post: PostDoc) -> ChunkPlan:
    plan = post.get("upload_plan")
    if not plan or post.get("source") != "FILE_UPLOAD":
        raise errors.FailedPrecondition(
            "this post has no file upload: its media is pulled by TikTok", reason="upload.none"
        )
    return ChunkPlan(plan["video_size"], plan["chunk_size"], plan["total_chunks"])


def _next(post: PostDoc) -> int:
    """The chunk the upload expects next (a file upload's post has it from its creation)."""
    return post.get("next_chunk") or 0


def _check(
    post: PostDoc, plan: ChunkPlan, index: int, content_length: int | None, now: datetime
) -> tuple[int, int]:
    """Chunk ``index`` may be sent now: its byte range, or an error saying why not."""
    if post.get("status") not in ("INITIALIZING", "PROCESSING_UPLOAD"):
        reason = post.get("fail_reason")
        raise errors.Aborted(
            f"this upload is closed ({post.get('status')}"
            + (f": {reason}" if reason else "")
            + "); start a new post",
            reason="upload.closed",
            status=post.get("status"),
        )
    first, last = plan.bounds(index)
    if index > _next(post):
        raise errors.Aborted(
            f"chunks must be sent in order: send chunk {_next(post)} next",
            reason="upload.out_of_order",
            expected_chunk=_next(post),
        )
    expected = last - first + 1
    if content_length != expected:
        raise errors.InvalidArgument(
            f"chunk {index} must be exactly {expected} bytes (Content-Length), got "
            f"{content_length if content_length is not None else 'none'}",
            reason="upload.chunk_length",
            expected_bytes=expected,
        )
    if post.get("status") == "INITIALIZING" or not post.get("upload_url_enc"):
        raise errors.Aborted(
            "the upload is not ready yet; retry shortly", reason="upload.not_ready"
        )
    if post["upload_expires_at"] <= now:
        raise errors.FailedPrecondition(
            "TikTok's upload URL expired (uploads must finish within one hour); start a new post",
            reason="tiktok.upload_url_expired",
        )
    held = post.get("chunk_claim_until")
    if held is not None and held > now:
        raise errors.Aborted(
            f"chunk {index} is already being uploaded by another request",
            reason="upload.in_progress",
            expected_chunk=_next(post),
        )
    return first, last


def _send(
    p: Publisher,
    uid: str,
    post_id: str,
    post: PostDoc,
    body: IO[bytes],
    first: int,
    last: int,
    plan: ChunkPlan,
) -> tuple[int, bool]:
    url = unseal(p.vault, post_path(uid, post_id), "upload_url", post["upload_url_enc"])
    try:
        ack = p.tiktok.upload_chunk(
            url,
            _pieces(body, last - first + 1),
            first_byte=first,
            last_byte=last,
            total_bytes=plan.video_size,
            content_type="video/mp4",
        )
    except errors.AppError as exc:
        reported = exc.details.get("uploaded_bytes")
        if exc.reason == "tiktok.upload_range_mismatch" and isinstance(reported, int):
            if reported > last:
                # TikTok has this chunk already (our record of it was lost): not sent twice.
                return reported, reported >= plan.video_size
            raise errors.Aborted(
                f"TikTok has {reported} bytes; send chunk {_chunks_covered(plan, reported)} next",
                reason="upload.out_of_order",
                expected_chunk=_chunks_covered(plan, reported),
            ) from exc
        raise
    return ack.uploaded_bytes, ack.complete


def _pieces(body: IO[bytes], length: int) -> Iterator[bytes]:
    """The chunk's bytes as they arrive; a body that ends early fails the transfer."""
    remaining = length
    while remaining > 0:
        piece = body.read(min(PIECE, remaining))
        if not piece:
            raise errors.InvalidArgument(
                f"the chunk body ended {remaining} bytes early", reason="upload.body_short"
            )
        remaining -= len(piece)
        yield piece


def _chunks_covered(plan: ChunkPlan, uploaded: int) -> int:
    """How many whole chunks ``uploaded`` bytes cover."""
    if uploaded >= plan.video_size:
        return plan.total_chunks
    return min(uploaded // plan.chunk_size, plan.total_chunks - 1)


def _progress(post: PostDoc, plan: ChunkPlan) -> dict[str, Any]:
    return {
        "uploaded_bytes": post.get("uploaded_bytes") or 0,
        "total_bytes": plan.video_size,
        "complete": bool(post.get("upload_complete")),
        "next_chunk": post.get("next_chunk"),
    }
