"""Chunk plans obey TikTok's rules and keep every request under the function's limit."""

from __future__ import annotations

import pytest

from shared.errors import InvalidArgument
from shared.publishing.chunks import (
    DEFAULT_REQUEST_LIMIT,
    MAX_CHUNK,
    MAX_LAST_CHUNK,
    MIN_CHUNK,
    ChunkPlan,
    plan_chunks,
    request_limit,
)

LIMIT = 32_000_000


def check_rules(plan: ChunkPlan, limit: int) -> None:
    assert plan.video_size // plan.chunk_size == plan.total_chunks
    assert 1 <= plan.total_chunks <= 1000
    sizes = [last - first + 1 for first, last in map(plan.bounds, range(plan.total_chunks))]
    assert sum(sizes) == plan.video_size
    assert max(sizes) <= limit
    assert sizes[-1] <= MAX_LAST_CHUNK
    if plan.total_chunks == 1:
        assert plan.chunk_size == plan.video_size
    else:
        assert MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK
        assert all(size == plan.chunk_size for size in sizes[:-1])


@pytest.mark.parametrize(
    "size",
    [1, 4_999_999, 5_000_000, 30_000_000, LIMIT, LIMIT + 1, 50_000_123, 64_000_001, 256_000_000,
     1_000_000_007, 4 * 1024**3],
)  # fmt: skip
def test_plans_follow_tiktok_rules(size: int) -> None:
    check_rules(plan_chunks(size, LIMIT), LIMIT)


def test_a_file_that_fits_one_request_is_one_chunk() -> None:
    assert plan_chunks(30_000_000, LIMIT) == ChunkPlan(30_000_000, 30_000_000, 1)
    assert plan_chunks(3_000_000, LIMIT) == ChunkPlan(3_000_000, 3_000_000, 1)


def test_larger_files_use_the_largest_chunks_the_limit_allows() -> None:
    plan = plan_chunks(256_000_000, LIMIT)
    assert plan.total_chunks == 8
    assert plan.chunk_size == 32_000_000


def test_the_remainder_goes_into_the_last_chunk() -> None:
    plan = plan_chunks(64_000_001, LIMIT)
    assert plan.total_chunks == 3
    assert plan.bounds(2)[1] == 64_000_000
    assert plan.bounds(0) == (0, plan.chunk_size - 1)


def test_the_limit_is_a_setting() -> None:
    plan = plan_chunks(50_000_123, 10_000_000)
    check_rules(plan, 10_000_000)
    assert plan.total_chunks == 6


@pytest.mark.parametrize("size", [0, -5, 4 * 1024**3 + 1])
def test_impossible_sizes_are_refused(size: int) -> None:
    with pytest.raises(InvalidArgument):
        plan_chunks(size, LIMIT)


def test_chunk_index_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="chunks 0 to 0"):
        plan_chunks(1000, LIMIT).bounds(1)


def test_the_default_chunk_crosses_a_5_mbps_uplink_within_hostings_60_seconds() -> None:
    seconds = DEFAULT_REQUEST_LIMIT * 8 / 5_000_000
    assert seconds <= 48  # 12 s left for TikTok's answer before Hosting's 60 s cut
    plan = plan_chunks(4 * 1024**3)  # the largest video, with the default limit
    check_rules(plan, DEFAULT_REQUEST_LIMIT)


def test_a_client_may_ask_for_smaller_chunks_within_the_bounds() -> None:
    assert request_limit(None, 20_000_000) == 20_000_000
    assert request_limit(8_000_000, 20_000_000) == 8_000_000
    check_rules(plan_chunks(50_000_123, request_limit(8_000_000, 20_000_000)), 8_000_000)
    for wrong in (MIN_CHUNK - 1, 20_000_001):
        with pytest.raises(InvalidArgument) as refused:
            request_limit(wrong, 20_000_000)
        assert refused.value.reason == "request.media.chunk_size"
