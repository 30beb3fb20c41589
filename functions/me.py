"""``/api/me/**`` handlers: data export and account deletion.

Served by the ``accounts`` function (``firebase.json`` rewrites ``/api/me/**`` there); this module
only holds their routes so ``functions/accounts.py`` stays about TikTok connections.
"""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from shared import errors, runtime
from shared.media.service import delete_user_media
from shared.users.data_rights import delete_user_data, export_csv_zip, export_json
from shared.users.deletion import user_deleted
from shared.users.identity import delete_auth_user
from shared.web.http import Call, Route, clear_session_cookie, json_response

_FORMATS = {
    "json": ("application/json", "json"),
    "csv": ("application/zip", "zip"),
}


def _export(call: Call) -> flask.Response:
    kind = call.request.args.get("format", "json")
    if kind not in _FORMATS:
        raise errors.InvalidArgument("format must be json or csv", reason="request.format")
    return _download(call, kind)


def _export_csv(call: Call) -> flask.Response:
    """The CSV zip at a path of its own, so a client generated from openapi.yaml has one
    operation whose answer is only ever a zip (``?format=csv`` answers the same)."""
    return _download(call, "csv")


def _download(call: Call, kind: str) -> flask.Response:
    if not runtime.user_data().user_is_live(call.uid):  # being deleted
        raise user_deleted()
    now = datetime.now(UTC)
    stream = (export_json if kind == "json" else export_csv_zip)(runtime.user_data(), call.uid, now)
    mimetype, extension = _FORMATS[kind]
    response = flask.Response(stream, mimetype=mimetype)
    stamp = now.strftime("%Y%m%d")
    response.headers["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _delete(call: Call) -> flask.Response:

    report = delete_user_data(
        runtime.user_data(),
        runtime.account_store(),
        runtime.post_store(),
        runtime.vault(),
        runtime.tiktok(),
        uid=call.uid,
        delete_auth_user=lambda uid: delete_auth_user(uid, runtime.firebase_app()),
        delete_media=(
            (lambda uid: delete_user_media(runtime.staging(), uid=uid))
            if runtime.media_configured()
            else None
        ),
    )
    response = json_response(
        {
            "deleted": True,
            "revoked_connections": report.revoked,
            "revoke_failed": report.revoke_failed,
            "cancelled_publishes": report.cancelled,
            # False: the rest of a very large account is deleted by the scheduled job within
            # minutes; nothing of it is reachable meanwhile.
            "complete": report.complete,
            "accounts": [
                {"open_id": open_id, "tiktok_revoked": outcome}
                for open_id, outcome in report.accounts
            ],
        }
    )
    clear_session_cookie(response)
    return response


ME_ROUTES = [
    Route("GET", "/api/me/export", _export),
    Route("GET", "/api/me/export/csv", _export_csv),
    Route("DELETE", "/api/me", _delete),
]
