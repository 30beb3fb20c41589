"""The fake's Display API video calls: ``POST /v2/video/list/`` and ``/v2/video/query/`` (§2.2-2.4).

Scope ``video.list``. The list returns only public videos, newest first, ``max_count`` at most 20,
paged by ``cursor`` (Unix milliseconds: videos created before it) with ``has_more``; the query
returns the named videos (1 to 20 ids) that belong to the token's user, others silently left out.
Ids are int64 above 2**53, sent as strings like the real payloads quoted in docs/tiktok-api.md §5.3.

A video Direct Post that ends ``PUBLISH_COMPLETE`` with ``PUBLIC_TO_EVERYONE`` (the only level
that gets a ``publicaly_available_post_id``) joins its creator's videos under that id, so it
shows in the list and the query as it would on TikTok once public; posts of other privacy levels
are not public and TikTok's list never shows them.

Control (not TikTok): ``POST /_control/users/<open_id>/videos {"videos": [...]} | {"count": n}``
seeds a user's videos (``privacy``: public|private, ``create_time`` seconds);
``GET /_control/users/<open_id>/videos`` lists them. ``POST /_control/advance_day {"days": n}``
(default 1) lets ``n`` days of audience pass: every video's counts grow (newer videos faster) and
every user gains followers and likes, so daily analytics have something to chart.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import flask

from emulator.tiktok.common import (
    envelope,
    envelope_error,
    open_call,
    world,
)
from emulator.tiktok.publishes import PUBLISH_COMPLETE, Publish
from emulator.tiktok.state import World

bp = flask.Blueprint("videos", __name__)

# The Video Object caps title and video_description at 150 characters
# (https://developers.tiktok.com/doc/tiktok-api-v2-video-object).
TEXT_LIMIT = 150

FIELDS = (
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
    "is_aigc",
)


class Shelf:
    """Every user's videos; cleared with the world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = threading.Lock()
        self.videos: dict[str, list[dict[str, Any]]] = {}

    def reset(self) -> None:
        with self.lock:
            self.videos = {}

    def add(
        self, open_id: str, spec: dict[str, Any], index: int, video_id: str | None = None
    ) -> dict[str, Any]:
        video_id = video_id or str(2**53 + 1 + secrets.randbelow(2**62))
        created = int(spec.get("create_time", time.time() - 3600 * (index + 1)))
        video = {
            "id": video_id,
            "create_time": created,
            # Tests may point covers at a loopback server, so a browser page never leaves the host.
            "cover_image_url": str(
                spec.get(
                    "cover_image_url",
                    f"https://p16-sign.tiktokcdn.example/{video_id}.jpeg?x-expires="
                    f"{int(time.time()) + 6 * 3600}",
                )
            ),
            "share_url": f"https://www.tiktok.com/@creator/video/{video_id}",
            "video_description": str(spec.get("video_description", f"video {index + 1}")),
            "duration": int(spec.get("duration", 15)),
            "height": 1920,
            "width": 1080,
            "title": str(spec.get("title", f"video {index + 1}")),
            "embed_html": f'<blockquote class="tiktok-embed" data-video-id="{video_id}">',
            "embed_link": f"https://www.tiktok.com/player/v1/{video_id}",
            "like_count": int(spec.get("like_count", index)),
            "comment_count": int(spec.get("comment_count", 0)),
            "share_count": int(spec.get("share_count", 0)),
            "view_count": int(spec.get("view_count", 100 * index)),
            "is_aigc": bool(spec.get("is_aigc", False)),
            "privacy": str(spec.get("privacy", "public")),
        }
        with self.lock:
            self.videos.setdefault(open_id, []).append(video)
        return video

    def on_status(self, publish: Publish, previous: str) -> None:
        """PublishBook listener: a video made public joins its creator's videos."""
        if publish.status != PUBLISH_COMPLETE or publish.kind != "video":
            return
        title = str(publish.post_info.get("title", ""))[:TEXT_LIMIT]
        spec = {
            "title": title,
            "video_description": title,
            "create_time": int(publish.history[-1]["at"]),
            "duration": 0,  # the fake never decodes the media
            "like_count": 0,
            "view_count": 0,
            "is_aigc": bool(publish.post_info.get("is_aigc", False)),
        }
        creator = self.world.users.get(publish.open_id)
        if creator is not None:  # The fake never decodes the media: the creator's avatar stands
            spec["cover_image_url"] = creator.avatar_url  # in for a frame of the video.
        for post_id in publish.post_ids:
            self.add(publish.open_id, spec, 0, video_id=str(post_id))


def shelf() -> Shelf:
    found: Shelf = flask.current_app.extensions["tiktok_videos"]
    return found


def _fields() -> list[str] | flask.Response:
    fields = [f.strip() for f in flask.request.args.get("fields", "").split(",") if f.strip()]
    unknown = [f for f in fields if f not in FIELDS]
    if not fields or unknown:
        return envelope_error(400, "invalid_params", f"Invalid fields: {','.join(unknown)}")
    return fields


def _begin(endpoint: str) -> tuple[str, list[str], dict[str, Any]] | flask.Response:
    auth = open_call(endpoint, any_scope=("video.list",))
    if isinstance(auth, flask.Response):
        return auth
    fields = _fields()
    if isinstance(fields, flask.Response):
        return fields
    body = flask.request.get_json(silent=True)
    return auth.open_id, fields, body if isinstance(body, dict) else {}


@bp.post("/v2/video/list/")
def video_list() -> flask.Response:
    started = _begin("video_list")
    if isinstance(started, flask.Response):
        return started
    open_id, fields, body = started
    max_count = body.get("max_count", 10)
    cursor = body.get("cursor")
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        return envelope_error(400, "invalid_params", "max_count must be 1 to 20.")
    if cursor is not None and (not isinstance(cursor, int) or cursor < 0):
        return envelope_error(400, "invalid_params", "cursor must be int64 milliseconds.")
    with shelf().lock:
        public = [v for v in shelf().videos.get(open_id, []) if v["privacy"] == "public"]
    public.sort(key=lambda v: (v["create_time"], v["id"]), reverse=True)
    if cursor is not None:
        public = [v for v in public if v["create_time"] * 1000 < cursor]
    page = public[:max_count]
    next_cursor = page[-1]["create_time"] * 1000 if page else (cursor or 0)
    return envelope(
        {
            "videos": [{f: v[f] for f in fields} for v in page],
            "cursor": next_cursor,
            "has_more": len(public) > max_count,
        }
    )


@bp.post("/v2/video/query/")
def video_query() -> flask.Response:
    started = _begin("video_query")
    if isinstance(started, flask.Response):
        return started
    open_id, fields, body = started
    filters = body.get("filters")
    ids = filters.get("video_ids") if isinstance(filters, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
        return envelope_error(400, "invalid_params", "filters.video_ids must hold 1 to 20 ids.")
    wanted = {str(i) for i in ids}
    with shelf().lock:
        mine = [v for v in shelf().videos.get(open_id, []) if v["id"] in wanted]
    return envelope({"videos": [{f: v[f] for f in fields} for v in mine]})


control = flask.Blueprint("videos_control", __name__, url_prefix="/_control")


@control.post("/users/<open_id>/videos")
def seed(open_id: str) -> tuple[flask.Response, int]:
    body = flask.request.get_json(silent=True) or {}
    specs = body.get("videos") or [{} for _ in range(int(body.get("count", 0)))]
    found = [shelf().add(open_id, dict(spec), i) for i, spec in enumerate(specs)]
    return flask.jsonify({"videos": found}), 201


@control.get("/users/<open_id>/videos")
def seeded(open_id: str) -> flask.Response:
    with shelf().lock:
        return flask.jsonify({"videos": list(shelf().videos.get(open_id, []))})


def grow(video: dict[str, Any], rank: int, days: int) -> None:
    """A day of audience for the ``rank``-th newest video: views fall off with age."""
    views = days * max(10, 1000 // (rank + 1))
    video["view_count"] += views
    video["like_count"] += views // 10
    video["comment_count"] += views // 50
    video["share_count"] += views // 100


@control.post("/advance_day")
def advance_day() -> tuple[flask.Response, int] | flask.Response:
    body = flask.request.get_json(silent=True) or {}
    days = body.get("days", 1) if isinstance(body, dict) else None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 400:
        return flask.jsonify({"error": "days must be a whole number from 1 to 400"}), 400
    with shelf().lock:
        for videos in shelf().videos.values():
            newest = sorted(videos, key=lambda v: (v["create_time"], v["id"]), reverse=True)
            for rank, video in enumerate(newest):
                grow(video, rank, days)
        counts = {open_id: len(videos) for open_id, videos in shelf().videos.items()}
    state = world()
    with state.lock:
        for user in state.users.values():
            user.follower_count += 25 * days
            user.likes_count += 100 * days
            user.video_count = max(user.video_count, counts.get(user.open_id, 0))
    return flask.jsonify({"advanced_days": days})
