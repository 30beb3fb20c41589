"""The chunk plan for a FILE_UPLOAD video, obeying TikTok's rules and the function's request limit.

TikTok (docs/tiktok-api.md §3.5, https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide):
``total_chunk_count = floor(video_size / chunk_size)``, the remainder is merged into the last
chunk; chunks are 5 MB to 64 MB (the last may exceed ``chunk_size``, up to 128 MB); a file under
5 MB is one chunk with ``chunk_size == video_size``; 1 to 1,000 chunks. MB is read as 10**6, the
safe reading either way.

Each chunk reaches the function as one request, so every chunk, the remainder-carrying last one
included, must fit ``request_limit``. Two limits bound a request: Cloud Functions refuses bodies
over 32 MiB, and Firebase Hosting ends a rewritten request after 60 seconds
(https://firebase.google.com/docs/hosting/functions). The default limit is what a 5 Mbps phone
uplink sends in 48 s, leaving 12 s for TikTok's answer and the hops: 30,000,000 bytes. A client
on a slower link asks for smaller chunks (``media.chunk_size``, :func:`request_limit`). A file
that fits one request is sent as one chunk: since August 2026 TikTok has been seen refusing
multi-chunk plans (docs/tiktok-api.md §9), so we never split what need not be split, and
otherwise use the largest chunks the request limit allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import errors

if TYPE_CHECKING:
    from shared.store.documents import UploadPlanDoc

MB = 1_000_000
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024**3  # "max 4 GB"; 4 GiB is the larger reading, TikTok checks the rest.
MAX_REQUEST_BYTES = 32 * MB  # Under Cloud Functions' 32 MiB request limit, with room for headers.
HOSTING_REQUEST_SECONDS = 60  # Firebase Hosting ends a rewritten request after this
ANSWER_MARGIN_SECONDS = 12  # TikTok's answer after the last byte, Hosting's and our hops
DESIGN_UPLINK_BPS = 5_000_000  # the slowest uplink a default chunk must cross in time
DEFAULT_REQUEST_LIMIT = (HOSTING_REQUEST_SECONDS - ANSWER_MARGIN_SECONDS) * DESIGN_UPLINK_BPS // 8


def request_limit(requested: int | None, deployment_limit: int) -> int:
    """The largest chunk of this upload: the client's ``media.chunk_size`` when it asks for one
    (at least TikTok's 5 MB, at most the deployment's limit), else the deployment's limit."""
    if requested is None:
        return deployment_limit
    if not MIN_CHUNK <= requested <= deployment_limit:
        raise errors.InvalidArgument(
            f"media.chunk_size must be {MIN_CHUNK} to {deployment_limit} bytes (TikTok's smallest "
            "chunk, and the largest this service relays in one request)",
            reason="request.media.chunk_size",
        )
    return requested


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunks: int

    def bounds(self, index: int) -> tuple[int, int]:
        """First and last byte (inclusive) of chunk ``index``."""
        if not 0 <= index < self.total_chunks:
            raise errors.InvalidArgument(
                f"chunk {index} does not exist: this upload has chunks 0 to {self.total_chunks - 1}"
            )
        first = index * self.chunk_size
        last = (
            self.video_size - 1 if index == self.total_chunks - 1 else first + self.chunk_size - 1
        )
        return first, last

    def public(self) -> UploadPlanDoc:
        return {
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunks": self.total_chunks,
        }


def plan_chunks(video_size: int, request_limit: int = DEFAULT_REQUEST_LIMIT) -> ChunkPlan:
    """The plan for ``video_size`` bytes with no chunk larger than ``request_limit``."""
    if not MIN_CHUNK <= request_limit <= MAX_CHUNK:
        raise ValueError("request_limit must be within TikTok's chunk sizes (5 MB to 64 MB)")
    if video_size <= 0:
        raise errors.InvalidArgument("media.size must be a positive number of bytes")
    if video_size > MAX_VIDEO_BYTES:
        raise errors.InvalidArgument(
            f"the video is {video_size} bytes; TikTok accepts at most 4 GB", reason="media.size"
        )
    if video_size <= request_limit:
        return ChunkPlan(video_size, video_size, 1)
    count = -(-video_size // request_limit)
    while True:
        chunk = video_size // count
        last = video_size - (count - 1) * chunk
        if last <= request_limit:
            break
        count += 1
    plan = ChunkPlan(video_size, chunk, count)
    _check(plan)
    return plan


def _check(plan: ChunkPlan) -> None:
    """The invariants TikTok enforces; a violation here is a bug in the planner, not bad input."""
    first_of_last, last = plan.bounds(plan.total_chunks - 1)
    if not (
        plan.video_size // plan.chunk_size == plan.total_chunks
        and MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK
        and last - first_of_last + 1 <= MAX_LAST_CHUNK
        and 1 <= plan.total_chunks <= MAX_CHUNKS
    ):
        raise errors.Internal(f"chunk plan breaks TikTok's rules: {plan}")
