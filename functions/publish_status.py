"""``/api/webhooks/tiktok``, ``/api/publish/{id}/status`` and ``/api/posts``: following posts.

The history answers each published post's current metrics from the account's newest analytics
snapshot (``shared/analytics/posts.py``).

The webhook is TikTok's, not a browser's: no session, no Origin check, its own signature instead,
and it loads only Firestore (never KMS) so TikTok gets its 200 fast.
"""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from shared import runtime
from shared.analytics.posts import with_metrics
from shared.status.poll import get_status, list_posts
from shared.status.webhooks import BODY_LIMIT, handle, parse_event, verify_signature
from shared.web.http import Call, Route, entrypoint, json_response, read_body


def _webhook(call: Call) -> flask.Response:
    settings = runtime.settings()
    now = datetime.now(UTC)
    raw = read_body(call.request, BODY_LIMIT)
    # Header names are case-insensitive; TikTok's own example writes "Tiktok-Signature".
    verify_signature(
        call.request.headers.get("TikTok-Signature"),
        raw,
        settings.tiktok_client_secret.reveal(),
        now,
    )
    event = parse_event(raw, settings.tiktok_client_key)
    outcome = handle(runtime.status_store(), raw, event, now)
    return json_response({"ok": True, "outcome": outcome})


def _status(call: Call) -> flask.Response:
    body = get_status(
        runtime.tracker(), uid=call.uid, post_id=call.params["post_id"], now=datetime.now(UTC)
    )
    return json_response(body)


def _history(call: Call) -> flask.Response:
    args = call.request.args
    page = list_posts(
        runtime.status_store(),
        uid=call.uid,
        cursor=args.get("cursor") or None,
        status=args.get("status") or None,
        open_id=args.get("open_id") or None,
    )
    with_metrics(runtime.analytics_store(), call.uid, page["posts"], datetime.now(UTC))
    return json_response(page)


ROUTES = [
    Route("POST", "/api/webhooks/tiktok", _webhook, auth=False, same_origin=False),
    Route("GET", "/api/publish/<post_id>/status", _status),
    Route("GET", "/api/posts", _history),
]
publish_status = entrypoint(ROUTES)
