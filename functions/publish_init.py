"""``/api/publish/**``: drafts, publish (TikTok init, or scheduled), the streaming chunk relay,
editing and cancelling a scheduled post, abandoning an upload."""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from shared import errors, runtime
from shared.publishing.abandon import abandon_post
from shared.publishing.drafts import create_draft, get_draft
from shared.publishing.publish import publish
from shared.publishing.relay import relay_chunk
from shared.publishing.scheduled import cancel_scheduled, edit_scheduled, is_scheduled
from shared.web.http import Call, Route, entrypoint, json_response, read_json

_KEY_MAX = 255


def _create_draft(call: Call) -> flask.Response:
    draft = create_draft(
        runtime.post_store(),
        runtime.account_store(),
        uid=call.uid,
        body=read_json(call.request),
        now=datetime.now(UTC),
        loopback_media=runtime.loopback_media(),
    )
    return json_response({"draft": draft}, 201)


def _get_draft(call: Call) -> flask.Response:
    draft = get_draft(
        runtime.post_store(), uid=call.uid, draft_id=call.params["draft_id"], now=datetime.now(UTC)
    )
    return json_response({"draft": draft})


def _publish(call: Call) -> flask.Response:
    key = call.request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= _KEY_MAX and key.isprintable()):
        raise errors.InvalidArgument(
            f"Idempotency-Key must be 1 to {_KEY_MAX} printable characters",
            reason="request.idempotency_key",
        )
    replayed, post = publish(
        runtime.publisher(),
        uid=call.uid,
        body=read_json(call.request),
        idempotency_key=key,
        now=datetime.now(UTC),
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return json_response({"post": post}, 201, headers)


def _chunk(call: Call) -> flask.Response:
    if call.request.mimetype != "application/octet-stream":
        raise errors.UnsupportedMediaType("a chunk's body must be application/octet-stream")
    progress = relay_chunk(
        runtime.publisher(),
        uid=call.uid,
        post_id=call.params["post_id"],
        index=int(call.params["n"]),
        body=call.request.stream,
        content_length=call.request.content_length,
        now=datetime.now(UTC),
    )
    return json_response(progress)


def _edit(call: Call) -> flask.Response:
    post = edit_scheduled(
        runtime.publisher(),
        uid=call.uid,
        post_id=call.params["post_id"],
        body=read_json(call.request),
        now=datetime.now(UTC),
    )
    return json_response({"post": post})


def _delete(call: Call) -> flask.Response:
    """Cancel a scheduled post, or abandon an unfinished file upload."""
    uid, post_id, now = call.uid, call.params["post_id"], datetime.now(UTC)
    post = runtime.post_store().get_post(uid, post_id)
    if post is not None and is_scheduled(post):
        return json_response(
            cancel_scheduled(runtime.publisher(), uid=uid, post_id=post_id, now=now)
        )
    return json_response(abandon_post(runtime.tracker(), uid=uid, post_id=post_id, now=now))


ROUTES = [
    Route("POST", "/api/publish/drafts", _create_draft),
    Route("GET", "/api/publish/drafts/<draft_id>", _get_draft),
    Route("POST", "/api/publish", _publish),
    Route("PUT", "/api/publish/<post_id>/chunks/<int:n>", _chunk),
    Route("PATCH", "/api/publish/<post_id>", _edit),
    Route("DELETE", "/api/publish/<post_id>", _delete),
]
publish_init = entrypoint(ROUTES)
