"""The fake's ``POST /v2/post/publish/status/fetch/`` (docs/tiktok-api.md §3.6).

Scope video.upload or video.publish, 30 requests a minute per token. The answer keeps TikTok's
spelling ``publicaly_available_post_id`` (a list of int64 ids above 2**53, so clients must not
read them as doubles), ``uploaded_bytes`` for FILE_UPLOAD and ``downloaded_bytes`` for
PULL_FROM_URL (https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status).
"""

from __future__ import annotations

from typing import Any

import flask

from emulator.tiktok.common import (
    envelope,
    envelope_error,
    open_call,
    world,
)
from emulator.tiktok.publishes import FAILED

bp = flask.Blueprint("publish_status", __name__)


@bp.post("/v2/post/publish/status/fetch/")
def status_fetch() -> flask.Response:
    auth = open_call("status_fetch", any_scope=("video.upload", "video.publish"))
    if isinstance(auth, flask.Response):
        return auth
    body = flask.request.get_json(silent=True)
    publish_id = body.get("publish_id") if isinstance(body, dict) else None
    if not isinstance(publish_id, str) or not publish_id:
        return envelope_error(400, "invalid_param", "publish_id is required.")
    state = world()
    with state.lock:
        state.publishes.settle()
        publish = state.publishes.by_id.get(publish_id)
        if publish is None:
            return envelope_error(400, "invalid_publish_id", "The publish_id does not exist.")
        if publish.open_id != auth.open_id:
            return envelope_error(
                400,
                "token_not_authorized_for_specified_publish_id",
                "The access token is not authorized for this publish_id.",
            )
        data: dict[str, Any] = {
            "status": publish.status,
            "publicaly_available_post_id": list(publish.post_ids),  # sic, TikTok's spelling
        }
        if publish.status == FAILED:
            data["fail_reason"] = publish.fail_reason
        if publish.upload is not None:
            data["uploaded_bytes"] = publish.upload.received_bytes
        else:
            data["downloaded_bytes"] = publish.downloaded_bytes
        return envelope(data)
