"""The Display API's video calls of the TikTok client: video list and video query.

A mixin of :class:`shared.tiktok.client.TikTokClient` (docs/tiktok-api.md §2.2-2.4). Both are reads,
retried like user info. ``cursor`` is int64 Unix milliseconds; ``max_count`` at most 20; a query
names 1 to 20 video ids. Video ids are kept as strings whatever TikTok sends: they exceed 2**53.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict, TypeVar

import httpx

from shared import logs
from shared.errors import InvalidArgument
from shared.tiktok.errors import envelope_data, malformed
from shared.tiktok.models import MAX_COUNT
from shared.tiktok.posting import ClientCalls
from shared.tiktok.retry import Retry

T = TypeVar("T")

VIDEO_LIST_PATH = "/v2/video/list/"
VIDEO_QUERY_PATH = "/v2/video/query/"
# The Video Object's fields (https://developers.tiktok.com/doc/tiktok-api-v2-video-object).
VIDEO_FIELDS = (
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
)
_INTS = frozenset(
    {"create_time", "duration", "height", "width", "like_count", "comment_count", "share_count"}
    | {"view_count"}
)


class VideoPage(TypedDict):
    """``data`` of /v2/video/list/: ``cursor`` (ms) to pass back for the next page."""

    videos: list[dict[str, Any]]
    cursor: int | None
    has_more: bool


class DisplayCalls(ClientCalls):
    """Video list and query; mixed into TikTokClient."""

    def video_list(
        self, access_token: str, *, cursor: int | None = None, max_count: int = MAX_COUNT
    ) -> VideoPage:
        """One page of the user's public videos, newest first (scope video.list)."""
        if not 1 <= max_count <= MAX_COUNT:
            raise InvalidArgument(f"max_count must be 1 to {MAX_COUNT}", reason="tiktok.max_count")
        body: dict[str, Any] = {"max_count": max_count}
        if cursor is not None:
            body["cursor"] = cursor
        logs.register_secret(access_token)

        def call() -> VideoPage:
            response = self._post(VIDEO_LIST_PATH, access_token, body)
            data = envelope_data(response)
            raw_cursor = data.get("cursor")
            has_more = data.get("has_more", False)
            if raw_cursor is not None and (
                not isinstance(raw_cursor, int) or isinstance(raw_cursor, bool)
            ):
                raise malformed("video list cursor", response)
            if not isinstance(has_more, bool):
                raise malformed("video list has_more", response)
            return VideoPage(videos=_videos(data, response), cursor=raw_cursor, has_more=has_more)

        return self._with_retries(call, Retry.SAFE, "video_list")

    def video_query(self, access_token: str, video_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Fresh details (cover URLs live 6 hours) of up to 20 of the user's videos."""
        ids = list(video_ids)
        if not 1 <= len(ids) <= MAX_COUNT:
            raise InvalidArgument(f"name 1 to {MAX_COUNT} video ids", reason="tiktok.video_ids")
        logs.register_secret(access_token)

        def call() -> list[dict[str, Any]]:
            response = self._post(VIDEO_QUERY_PATH, access_token, {"filters": {"video_ids": ids}})
            return _videos(envelope_data(response), response)

        return self._with_retries(call, Retry.SAFE, "video_query")

    def _post(self, path: str, access_token: str, body: dict[str, Any]) -> httpx.Response:
        return self._send(
            "POST",
            path,
            params={"fields": ",".join(VIDEO_FIELDS)},
            json=body,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Content-Type": "application/json; charset=UTF-8",
            },
        )


def _videos(data: dict[str, Any], response: httpx.Response) -> list[dict[str, Any]]:
    raw = data.get("videos", [])
    if not isinstance(raw, list):
        raise malformed("videos", response)
    videos = []
    for item in raw:
        if not isinstance(item, dict):
            raise malformed("a video", response)
        video = {name: item[name] for name in VIDEO_FIELDS if item.get(name) is not None}
        vid = video.get("id")
        if isinstance(vid, int) and not isinstance(vid, bool):
            video["id"] = str(vid)
        elif not isinstance(vid, str) or not vid:
            raise malformed("a video id", response)
        for name in _INTS & video.keys():
            if not isinstance(video[name], int) or isinstance(video[name], bool):
                raise malformed(f"video {name}", response)
        videos.append(video)
    return videos
