"""``/api/tiktok/connect`` and ``/api/tiktok/callback``: connect a TikTok account (Login Kit)."""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from shared import runtime
from shared.accounts.connect import finish_connect, start_connect
from shared.analytics.snapshot import first_snapshot
from shared.web.http import Call, Route, entrypoint, redirect


def _connect(call: Call) -> flask.Response:
    url = start_connect(
        runtime.account_store(),
        runtime.login_kit(),
        uid=call.uid,
        return_to=call.request.args.get("return_to"),
        scopes=runtime.settings().tiktok_scopes,
        now=datetime.now(UTC),
    )
    return redirect(url)


def _callback(call: Call) -> flask.Response:
    outcome = finish_connect(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        params=call.request.args.to_dict(),
        now=datetime.now(UTC),
    )
    if outcome.open_id is not None:
        first_snapshot(runtime.snapshotter(), uid=call.uid, open_id=outcome.open_id)
    return redirect(runtime.settings().app_origin + outcome.location)


ROUTES = [
    Route("GET", "/api/tiktok/connect", _connect),
    Route("GET", "/api/tiktok/callback", _callback),
]
tiktok_oauth = entrypoint(ROUTES)
