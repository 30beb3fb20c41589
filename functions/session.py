"""``/api/session``: sign in with a Firebase ID token, read the signed-in user, sign out."""

from __future__ import annotations

import flask

from shared import errors, runtime
from shared.store.users import Store
from shared.users.signin import sign_in
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
    id_token = body.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise errors.InvalidArgument(
            "id_token is required: a Firebase ID token from Google sign-in"
        )
    codec = runtime.session_codec()
    user, token = sign_in(
        Store(runtime.firestore_client()), runtime.firebase_app(), codec, id_token
    )
    response = json_response({"user": user.public()})
    set_session_cookie(response, token, codec.ttl_seconds)
    return response


def _whoami(call: Call) -> flask.Response:
    assert call.user is not None
    response = json_response({"user": call.user.public()})
    codec = runtime.session_codec()
    if call.user.kid != codec.signing_kid:
        # Signed with an older key: re-sign with the current one so that key can be retired.
        user = call.user
        token = codec.issue(user.uid, email=user.email, name=user.name, picture=user.picture)
        set_session_cookie(response, token, codec.ttl_seconds)
    return response


def _sign_out(call: Call) -> flask.Response:
    response = json_response({"signed_out": True})
    clear_session_cookie(response)
    return response


ROUTES = [
    Route("POST", "/api/session", _sign_in, auth=False),
    Route("GET", "/api/session", _whoami),
    Route("DELETE", "/api/session", _sign_out, auth=False),
]
session = entrypoint(ROUTES)
