"""The fake's ``POST /v2/post/publish/cancel/``: stop a publish that TikTok has not finished.

TikTok documents the endpoint inside its media transfer guide
(https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide): body
``{"publish_id"}``, success is the envelope with ``error.code = "ok"`` and no data, and a cancel
is best effort: it stops a PULL_FROM_URL download in progress, but not a publish that is final or
already in file processing (``publish_not_cancellable``). Other errors: ``invalid_publish_id``,
``token_not_authorized_for_specified_publish_id`` (400), ``url_ownership_unverified`` (403),
``access_token_invalid`` / ``scope_not_authorized`` (401), 429, 5xx. A cancelled publish fails
with ``publish_cancelled``, which its ``post.publish.failed`` webhook carries.

TikTok does not say whether a FILE_UPLOAD whose chunks are still arriving can be cancelled. The
fake reads "in file processing" as starting once the last chunk is in, so an upload still
receiving chunks can be cancelled (its upload URL then answers 404); once the media is in, it
cannot. No rate limit is documented, so none is applied.
"""

from __future__ import annotations

import flask

from emulator.tiktok.common import envelope, envelope_error, open_call, world
from emulator.tiktok.publish_rules import Refused, check_media_url
from emulator.tiktok.publishes import FINAL, Publish

bp = flask.Blueprint("cancel", __name__)


@bp.post("/v2/post/publish/cancel/")
def cancel() -> flask.Response:
    auth = open_call("cancel", any_scope=("video.upload", "video.publish"))
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
        if not _cancellable(publish):
            return envelope_error(
                400, "publish_not_cancellable", "The publish can no longer be cancelled."
            )
        try:
            for url in _pulled_urls(publish):
                check_media_url(url, state.config.verified_url_prefixes)
        except Refused as exc:
            return envelope_error(exc.status, exc.code, exc.message)
        state.publishes.fail(publish, "publish_cancelled")
    return envelope()


def _cancellable(publish: Publish) -> bool:
    """Not final, and the media not yet in (processing has started once ``ready_at`` is set)."""
    return publish.status not in FINAL and publish.ready_at is None


def _pulled_urls(publish: Publish) -> list[str]:
    if publish.source != "PULL_FROM_URL":
        return []
    if publish.kind == "photo":
        return list(publish.source_info.get("photo_images", []))
    return [publish.source_info["video_url"]]
