"""``GET``/``HEAD /media/{token}``: a staged object's bytes for TikTok's PULL_FROM_URL.

Answers 200 (or 206 for a ``Range``) with ``Content-Length``, ``Accept-Ranges`` and the type the
bytes were checked to be, never a redirect (TikTok refuses 3xx). Every bad case (malformed,
tampered, expired, another post's, a final post's, a deleted object's token) gets the same 404
with the same body, so the answer says nothing about why. The body is streamed from the bucket
one bounded chunk at a time (:data:`shared.media.storage.READ_CHUNK`), whatever the object's size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import flask

from shared import errors
from shared.store.posts import FINAL_STATUSES

if TYPE_CHECKING:
    from shared.media.service import Staging
    from shared.media.tokens import MediaTokens
    from shared.store.posts import PostStore

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
GONE_STATUSES = FINAL_STATUSES | {"CANCELLED"}
_NOT_FOUND_BODY = '{"error":{"code":"NOT_FOUND","message":"not found"}}'


@dataclass(frozen=True)
class Servable:
    object: str
    generation: int
    size: int
    content_type: str


def not_found() -> flask.Response:
    """The one answer for every token that does not open an object."""
    response = flask.Response(_NOT_FOUND_BODY, status=404, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def find_servable(
    s: Staging, tokens: MediaTokens, posts: PostStore, token: str, now: float
) -> Servable | None:
    """The object a token opens now, or None (for whatever reason)."""
    grant = tokens.verify(token, now)
    if grant is None:
        return None
    try:
        post = posts.get_post(grant.uid, grant.post_id)
        slot = s.media.get(grant.uid, grant.media_id)
    except errors.NotFound:
        return None
    if post is None or slot is None or post.get("status") in GONE_STATUSES:
        return None
    if grant.media_id not in (post.get("media_ids") or []):
        return None
    if slot.get("state") != "used" or slot.get("post_id") != grant.post_id:
        return None
    return Servable(
        slot["object"], int(slot["generation"]), int(slot["size"]), str(slot["content_type"])
    )


class Unsatisfiable(Exception):
    """The range lies outside the object: 416."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for one satisfiable range; None: serve it whole.

    Only a single byte range is honoured; anything else (several ranges, other units) is ignored
    and the whole object is served, as RFC 9110 §14.2 allows.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise Unsatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise Unsatisfiable
    return start, end


def media_response(s: Staging, item: Servable, range_header: str | None) -> flask.Response:
    headers: dict[str, Any] = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{item.generation}"',
    }
    try:
        wanted = parse_range(range_header, item.size)
    except Unsatisfiable:
        headers["Content-Range"] = f"bytes */{item.size}"
        return flask.Response(b"", status=416, headers=headers)
    if wanted is None:
        start, end, status = 0, item.size - 1, 200
    else:
        start, end = wanted
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{item.size}"
    headers["Content-Length"] = str(end - start + 1)
    body: Iterator[bytes] = (
        s.bucket.stream(item.object, item.generation, start, end) if item.size else iter(())
    )
    response = flask.Response(
        body, status=status, headers=headers, mimetype=item.content_type, direct_passthrough=True
    )
    return response
