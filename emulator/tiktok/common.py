"""Answer shapes and per-call plumbing shared by the fake's endpoints.

TikTok speaks two error dialects (docs/tiktok-api.md §1.8 and §4.1): the flat OAuth object on
``/v2/oauth/*`` and the ``{data, error}`` envelope everywhere else; the helpers here build both.
:func:`begin` does what every endpoint does first: count the call, remember its body with secrets
masked, sleep the configured latency and hand back an injected failure, if any.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import flask

from emulator.tiktok.state import Authorization, Failure, World, log_id

SECRET_FIELDS = frozenset(
    {"client_secret", "code", "refresh_token", "token", "access_token", "state"}
)


def world() -> World:
    state: World = flask.current_app.extensions["tiktok_world"]
    return state


def envelope(data: Mapping[str, Any] | None = None) -> flask.Response:
    """A v2 success: every answer carries an ``error`` object, success included (§4.1)."""
    return flask.jsonify(
        {"data": dict(data or {}), "error": {"code": "ok", "message": "", "log_id": log_id()}}
    )


def envelope_error(
    status: int, code: str, message: str, *, retry_after: int | None = None
) -> flask.Response:
    response = flask.jsonify(
        {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}
    )
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def oauth_error(
    status: int, error: str, description: str, *, retry_after: int | None = None
) -> flask.Response:
    """The flat OAuth error (https://developers.tiktok.com/doc/oauth-error-handling)."""
    response = flask.jsonify({"error": error, "error_description": description, "log_id": log_id()})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def failure_response(failure: Failure, *, oauth: bool) -> flask.Response:
    if oauth:
        return oauth_error(
            failure.status, failure.code, failure.message, retry_after=failure.retry_after
        )
    return envelope_error(
        failure.status, failure.code, failure.message, retry_after=failure.retry_after
    )


def _masked(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: "***" if key in SECRET_FIELDS else value for key, value in values.items()}


def begin(endpoint: str, *, oauth: bool) -> flask.Response | None:
    """Count, record, delay; return an injected failure's answer when one is due."""
    state = world()
    request = flask.request
    body: dict[str, Any] = dict(request.form) if request.form else {}
    if not body and request.is_json:
        parsed = request.get_json(silent=True)
        body = parsed if isinstance(parsed, dict) else {}
    with state.lock:
        state.calls[endpoint] += 1
        state.last_requests[endpoint] = {"query": _masked(request.args), "body": _masked(body)}
        latency = state.config.latency_ms.get(endpoint, 0)
    if latency:
        time.sleep(latency / 1000)
    failure = state.take_failure(endpoint)
    return failure_response(failure, oauth=oauth) if failure is not None else None


def bearer_authorization() -> Authorization | None:
    """The live authorization behind the request's ``Authorization: Bearer`` token."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return world().authorization_for_access(token.strip())


def bearer_token() -> str:
    return flask.request.headers.get("Authorization", "").partition(" ")[2].strip()


def token_invalid() -> flask.Response:
    return envelope_error(
        401,
        "access_token_invalid",
        "The access token is invalid or not found in the request.",
    )


def rate_limited(endpoint: str) -> flask.Response | None:
    """429 ``rate_limit_exceeded`` once the token used up its one-minute window (§4.3)."""
    wait = world().rate_limited(endpoint, bearer_token())
    if wait is None:
        return None
    return envelope_error(
        429,
        "rate_limit_exceeded",
        "API rate limit was exceeded, please try again later.",
        retry_after=wait,
    )


def open_call(endpoint: str, *, any_scope: tuple[str, ...] = ()) -> Authorization | flask.Response:
    """The start every Bearer-authenticated v2 call shares: an injected failure, the token, one
    of ``any_scope`` granted, the per-token rate limit. A Response means: answer with it."""
    failure = begin(endpoint, oauth=False)
    if failure is not None:
        return failure
    auth = bearer_authorization()
    if auth is None:
        return token_invalid()
    if any_scope and not set(any_scope) & set(auth.scopes):
        names = " or ".join(any_scope)
        return envelope_error(401, "scope_not_authorized", f"The user did not authorize {names}.")
    limited = rate_limited(endpoint)
    if limited is not None:
        return limited
    return auth
