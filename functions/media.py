"""``/api/media/**`` (staging slots for the signed-in user) and ``/media/{token}`` (TikTok pulls).

The upload itself goes from the browser straight to the bucket through the session URI that
``POST /api/media`` returns; no media byte passes through here on the way in.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import flask

from shared import runtime
from shared.media.serve import find_servable, media_response, not_found
from shared.media.service import complete_slot, create_slot, delete_slot, get_slot
from shared.web.http import Call, Route, entrypoint, json_response, read_json


def _create(call: Call) -> flask.Response:
    media = create_slot(
        runtime.staging(), uid=call.uid, body=read_json(call.request), now=datetime.now(UTC)
    )
    return json_response({"media": media}, 201)


def _complete(call: Call) -> flask.Response:
    media = complete_slot(
        runtime.staging(), uid=call.uid, media_id=call.params["media_id"], now=datetime.now(UTC)
    )
    return json_response({"media": media})


def _get(call: Call) -> flask.Response:
    media = get_slot(
        runtime.staging(), uid=call.uid, media_id=call.params["media_id"], now=datetime.now(UTC)
    )
    return json_response({"media": media})


def _delete(call: Call) -> flask.Response:
    delete_slot(
        runtime.staging(), uid=call.uid, media_id=call.params["media_id"], now=datetime.now(UTC)
    )
    return json_response({"deleted": call.params["media_id"]})


def _pull(call: Call) -> flask.Response:
    """TikTok's download (GET, and HEAD, which werkzeug answers from GET without the body)."""
    staging = runtime.staging()
    item = find_servable(
        staging, runtime.media_tokens(), runtime.post_store(), call.params["token"], time.time()
    )
    if item is None:
        return not_found()
    return media_response(staging, item, call.request.headers.get("Range"))


ROUTES = [
    Route("POST", "/api/media", _create),
    Route("POST", "/api/media/<media_id>/complete", _complete),
    Route("GET", "/api/media/<media_id>", _get),
    Route("DELETE", "/api/media/<media_id>", _delete),
    Route("GET", "/media/<token>", _pull, auth=False, same_origin=False),
]
media = entrypoint(ROUTES)
