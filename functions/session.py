"""``/api/session``: sign in with a Firebase ID token, read the signed-in user, sign out (here or
everywhere)."""

from __future__ import annotations

import time

import flask

from shared import errors, runtime
from shared.users.signin import sign_in
from shared.web.fields import reject_unknown
from shared.web.http import (
    Call,
    Route,
    clear_session_cookie,
    entrypoint,
    json_response,
    read_json,
    set_session_cookie,
)


def _sign_in(call: Call) -> flask.Response:

    body = read_json(call.request)
    reject_unknown(body, ("id_token",))
    id_token = body.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise errors.InvalidArgument(
            "id_token is required: a Firebase ID token from Google sign-in"
        )
    codec = runtime.session_codec()
    user, token = sign_in(
        runtime.user_store(),
        runtime.session_store(),
        runtime.firebase_app(),
        codec,
        id_token,
    )
    response = json_response({"user": user.public()})
    set_session_cookie(response, token, codec.ttl_seconds)
    return response


def _whoami(call: Call) -> flask.Response:
    assert call.user is not None
    response = json_response({"user": call.user.public()})
    codec = runtime.session_codec()
    if call.user.kid != codec.signing_kid:
        # Signed with an older key: re-sign with the current one so that key can be retired. The
        # session stays the same one, ending when it always would have.
        user = call.user
        token = codec.issue(
            user.uid,
            sid=user.sid,
            email=user.email,
            name=user.name,
            picture=user.picture,
            expires_at=user.expires_at,
        )
        set_session_cookie(response, token, max(0, user.expires_at - int(time.time())))
    return response


def _sign_out(call: Call) -> flask.Response:
    everywhere = call.request.args.get("everywhere", "false")
    if everywhere not in ("true", "false"):
        raise errors.InvalidArgument(
            f"everywhere must be true or false, got {everywhere[:20]!r}",
            reason="request.everywhere",
        )
    user = call.user
    assert user is not None
    sessions = runtime.session_store()
    if everywhere == "true":
        sessions.revoke_all(user.uid)
    else:
        sessions.revoke(user.uid, user.sid)
    response = json_response({"signed_out": True})
    clear_session_cookie(response)
    return response


ROUTES = [
    Route("POST", "/api/session", _sign_in, auth=False),
    Route("GET", "/api/session", _whoami),
    Route("DELETE", "/api/session", _sign_out),
]
session = entrypoint(ROUTES)
