"""Content Posting API of the fake: creator info (docs/tiktok-api.md §3.1).

A creator who cannot post now is told so here, with HTTP 200 and the error code an init would
be refused with: the ``spam`` flag set on the user, or a daily cap reached by the posts the fake
received (:mod:`emulator.tiktok.caps`).

Init, chunk upload, status and cancel live in modules of their own next to this one.
"""

from __future__ import annotations

import flask

from emulator.tiktok.caps import direct_cap
from emulator.tiktok.common import (
    envelope,
    envelope_error,
    open_call,
    world,
)

bp = flask.Blueprint("posting", __name__)

# https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]

# These three come with HTTP 200 "intentionally" (§3.1): success is only error.code == "ok".
SPAM_ANSWERS: dict[str, str] = {
    "spam_risk_too_many_posts": "The creator has reached the daily post cap for API clients.",
    "spam_risk_user_banned_from_posting": "The creator is banned from posting.",
    "reached_active_user_cap": "The client has reached its daily active publisher quota.",
}


@bp.post("/v2/post/publish/creator_info/query/")
def creator_info() -> flask.Response:
    auth = open_call("creator_info", any_scope=("video.publish",))
    if isinstance(auth, flask.Response):
        return auth
    state = world()
    with state.lock:
        user = state.users[auth.open_id]
        if user.spam is not None:
            return envelope_error(200, user.spam, SPAM_ANSWERS.get(user.spam, user.spam))
        cap = direct_cap(auth.open_id, state.config, state.publishes, state.now())
        if cap is not None:
            return envelope_error(200, cap, SPAM_ANSWERS[cap])
        return envelope(
            {
                "creator_avatar_url": user.avatar_url,
                "creator_username": user.username,
                "creator_nickname": user.display_name,
                "privacy_level_options": PRIVATE_OPTIONS
                if user.private_account
                else PUBLIC_OPTIONS,
                "comment_disabled": user.comment_disabled,
                # Private accounts cannot be dueted or stitched (§3.1).
                "duet_disabled": user.private_account or user.duet_disabled,
                "stitch_disabled": user.private_account or user.stitch_disabled,
                "max_video_post_duration_sec": user.max_video_post_duration_sec,
            }
        )
