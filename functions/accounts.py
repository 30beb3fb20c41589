"""``/api/tiktok/accounts/**``: the signed-in user's TikTok connections."""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from functions.me import ME_ROUTES
from shared import runtime
from shared.accounts.service import REVOKE_FAILED, creator_info, disconnect, list_accounts
from shared.accounts.videos import list_videos, parse_cursor, parse_ids, query_videos
from shared.analytics.series import account_analytics, parse_range, set_analytics, video_analytics
from shared.media.service import delete_user_media
from shared.publishing.scheduled import cancel_account_posts
from shared.web.http import Call, Route, entrypoint, json_response, read_json


def _list(call: Call) -> flask.Response:
    accounts = list_accounts(runtime.account_store(), call.uid)
    return json_response({"accounts": [account.public() for account in accounts]})


def _creator_info(call: Call) -> flask.Response:
    info = creator_info(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        open_id=call.params["open_id"],
        now=datetime.now(UTC),
    )
    return json_response(dict(info))


def _disconnect(call: Call) -> flask.Response:
    open_id = call.params["open_id"]
    cancelled: list[int] = []

    def cancel_scheduled(account: object) -> None:
        # Its scheduled posts never go out, even if the account is connected again later.
        now = datetime.now(UTC)
        cancelled.append(
            cancel_account_posts(runtime.publisher(), uid=call.uid, open_id=open_id, now=now)
        )

    result = disconnect(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        open_id=open_id,
        before_delete=cancel_scheduled,
    )
    posts = runtime.post_store()

    def other_account(post_id: str) -> bool:
        post = posts.get_post(call.uid, post_id)
        return post is not None and post.get("open_id") != open_id

    if runtime.media_configured():
        delete_user_media(runtime.staging(), uid=call.uid, keep=other_account)
    body: dict[str, object] = {
        "disconnected": result.open_id,
        "revoked_at_tiktok": result.revoked_at_tiktok,
        "tiktok_revoked": result.tiktok_revoked,
        "cancelled_scheduled": sum(cancelled),
    }
    if result.tiktok_revoked == REVOKE_FAILED:
        body["message"] = (
            "Your tokens and profile were deleted here, but TikTok could not be told: remove the "
            "app under TikTok > Settings > Security > Manage app permissions."
        )
    return json_response(body)


def _videos(call: Call) -> flask.Response:
    page = list_videos(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        open_id=call.params["open_id"],
        cursor=parse_cursor(call.request.args.get("cursor")),
        now=datetime.now(UTC),
    )
    return json_response(page)


def _videos_query(call: Call) -> flask.Response:
    found = query_videos(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        open_id=call.params["open_id"],
        ids=parse_ids(read_json(call.request)),
        now=datetime.now(UTC),
    )
    return json_response(found)


def _analytics(call: Call) -> flask.Response:
    now = datetime.now(UTC)
    first, last = parse_range(call.request.args, now.date())
    body = account_analytics(
        runtime.account_store(),
        runtime.analytics_store(),
        uid=call.uid,
        open_id=call.params["open_id"],
        first=first,
        last=last,
        now=now,
    )
    return json_response(body)


def _video_analytics(call: Call) -> flask.Response:
    now = datetime.now(UTC)
    first, last = parse_range(call.request.args, now.date())
    body = video_analytics(
        runtime.account_store(),
        runtime.analytics_store(),
        uid=call.uid,
        open_id=call.params["open_id"],
        video_id=call.params["video_id"],
        first=first,
        last=last,
        now=now,
    )
    return json_response(body)


def _settings(call: Call) -> flask.Response:
    body = set_analytics(
        runtime.account_store(),
        runtime.analytics_store(),
        uid=call.uid,
        open_id=call.params["open_id"],
        body=read_json(call.request),
        now=datetime.now(UTC),
    )
    return json_response(body)


ROUTES = [
    Route("GET", "/api/tiktok/accounts", _list),
    Route("DELETE", "/api/tiktok/accounts/<open_id>", _disconnect),
    Route("PATCH", "/api/tiktok/accounts/<open_id>", _settings),
    Route("GET", "/api/tiktok/accounts/<open_id>/analytics", _analytics),
    Route("GET", "/api/tiktok/accounts/<open_id>/videos/<video_id>/analytics", _video_analytics),
    Route("GET", "/api/tiktok/accounts/<open_id>/creator-info", _creator_info),
    Route("GET", "/api/tiktok/accounts/<open_id>/videos", _videos),
    Route("POST", "/api/tiktok/accounts/<open_id>/videos/query", _videos_query),
    *ME_ROUTES,  # /api/me/** rewrites to this function too.
]
accounts = entrypoint(ROUTES)
