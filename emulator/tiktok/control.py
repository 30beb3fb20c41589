"""The test-only control API under ``/_control/``: users, knobs, failures, observations.

Publishing's part (publishes, forced failures, posting knobs) is in :mod:`control_publish`.

Not part of TikTok. Tests reset the fake, create TikTok users, choose token lifetimes and rotation,
add latency, inject failures, move the clock, and read call counts and authorizations, so they
assert on what TikTok saw instead of on log output.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flask

from emulator.tiktok.common import world
from emulator.tiktok.control_publish import apply_config
from emulator.tiktok.posting import SPAM_ANSWERS
from emulator.tiktok.state import ENDPOINTS, LIFETIMES, SCOPES, Failure, FakeUser

bp = flask.Blueprint("control", __name__, url_prefix="/_control")

_USER_FIELDS = {f.name for f in dataclasses.fields(FakeUser)} - {
    "open_id",
    "union_id",
}
_ALIASES = {
    "avatar": "avatar_url",
    "bio": "bio_description",
    "verified": "is_verified",
    "private": "private_account",
}
_STATS = ("follower_count", "following_count", "likes_count", "video_count")


class BadControlRequest(Exception):
    """A malformed control request; answered 400 with the message."""


def _json() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadControlRequest("the body must be a JSON object")
    return body


@bp.errorhandler(BadControlRequest)
def _bad(exc: BadControlRequest) -> tuple[flask.Response, int]:
    return flask.jsonify({"error": str(exc)}), 400


@bp.get("/health")
def health() -> flask.Response:
    return flask.jsonify({"ok": True})


@bp.post("/reset")
def reset() -> flask.Response:
    world().reset()
    return flask.jsonify({"ok": True})


def _user_json(user: FakeUser) -> dict[str, Any]:
    return dataclasses.asdict(user)


def _user_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    stats = body.pop("stats", None) or {}
    if not isinstance(stats, dict) or set(stats) - set(_STATS):
        raise BadControlRequest(f"stats takes {', '.join(_STATS)}")
    for key, value in {**body, **stats}.items():
        name = _ALIASES.get(key, key)
        if name not in _USER_FIELDS:
            raise BadControlRequest(f"unknown user field {key!r}")
        fields[name] = value
    if fields.get("spam") is not None and fields["spam"] not in SPAM_ANSWERS:
        raise BadControlRequest(f"spam must be one of {', '.join(SPAM_ANSWERS)} or null")
    return fields


@bp.post("/users")
def create_user() -> tuple[flask.Response, int]:
    user = world().add_user(**_user_fields(_json()))
    return flask.jsonify(_user_json(user)), 201


@bp.patch("/users/<open_id>")
def change_user(open_id: str) -> flask.Response | tuple[flask.Response, int]:
    """The creator changed a setting in TikTok (e.g. turned comments off, went private)."""
    fields = _user_fields(_json())
    state = world()
    with state.lock:
        user = state.users.get(open_id)
        if user is None:
            return flask.jsonify({"error": f"no user {open_id!r}"}), 404
        for name, value in fields.items():
            setattr(user, name, value)
        return flask.jsonify(_user_json(user))


@bp.get("/users")
def list_users() -> flask.Response:
    state = world()
    with state.lock:
        return flask.jsonify({"users": [_user_json(u) for u in state.users.values()]})


@bp.post("/config")
def config() -> flask.Response:
    body = _json()
    state = world()
    with state.lock:
        cfg = state.config
        if "lifetimes" in body:
            if body["lifetimes"] not in LIFETIMES:
                raise BadControlRequest(f"lifetimes must be one of {', '.join(LIFETIMES)}")
            cfg.access_expires_in, cfg.refresh_expires_in = LIFETIMES[body["lifetimes"]]
        for name in ("access_expires_in", "refresh_expires_in", "code_expires_in"):
            if name in body:
                if not isinstance(body[name], int) or body[name] <= 0:
                    raise BadControlRequest(f"{name} must be a positive integer")
                setattr(cfg, name, body[name])
        if "rotate_refresh_tokens" in body:
            cfg.rotate_refresh_tokens = bool(body["rotate_refresh_tokens"])
        for name in ("latency_ms", "rate_limits"):
            if name in body:
                values = body[name]
                if not isinstance(values, dict) or set(values) - set(ENDPOINTS):
                    raise BadControlRequest(f"{name} maps endpoints ({', '.join(ENDPOINTS)})")
                getattr(cfg, name).update({k: int(v) for k, v in values.items()})
        try:
            apply_config(cfg, body)  # audited, caps, verified_url_prefixes, processing_seconds
        except ValueError as exc:
            raise BadControlRequest(str(exc)) from exc
        return flask.jsonify(dataclasses.asdict(cfg))


@bp.post("/fail")
def fail() -> tuple[flask.Response, int]:
    """Make the next ``times`` calls of an endpoint answer ``status`` with error ``code``."""
    body = _json()
    endpoint = body.get("endpoint")
    if endpoint not in ENDPOINTS:
        raise BadControlRequest(f"endpoint must be one of {', '.join(ENDPOINTS)}")
    retry_after = body.get("retry_after")
    failure = Failure(
        endpoint=endpoint,
        status=int(body.get("status", 500)),
        code=str(body.get("code", "internal_error")),
        message=str(body.get("message", "Injected failure.")),
        retry_after=int(retry_after) if retry_after is not None else None,
        times=int(body.get("times", 1)),
    )
    state = world()
    with state.lock:
        state.failures.append(failure)
    return flask.jsonify(dataclasses.asdict(failure)), 201


@bp.post("/advance")
def advance() -> flask.Response:
    """Move the fake's clock forward, so tests can expire codes and tokens without waiting."""
    seconds = _json().get("seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise BadControlRequest("seconds must be a non-negative number")
    state = world()
    with state.lock:
        state.clock_offset += float(seconds)
        return flask.jsonify({"clock_offset": state.clock_offset})


@bp.post("/codes")
def issue_code() -> tuple[flask.Response, int]:
    """An authorization code as if the user approved, for tests that skip the consent page."""
    body = _json()
    state = world()
    scopes = body.get("scopes", list(SCOPES))
    if not isinstance(scopes, list) or any(s not in SCOPES for s in scopes):
        raise BadControlRequest("scopes must be a list of known scopes")
    with state.lock:
        if body.get("open_id") not in state.users:
            raise BadControlRequest("open_id names no user")
    code = state.issue_code(
        body["open_id"], tuple(scopes), state.app.client_key, state.app.redirect_uri
    )
    return flask.jsonify({"code": code, "scopes": ",".join(scopes)}), 201


@bp.post("/grants")
def grants() -> tuple[flask.Response, int]:
    """``count`` new users, each with a live authorization as if connected, and their token
    answers: seeds thousands of accounts for benchmarks without a consent round trip each."""
    from emulator.tiktok.oauth import grant_json

    body = _json()
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= 20000:
        raise BadControlRequest("count must be a whole number from 1 to 20000")
    state = world()
    found = []
    for _ in range(count):
        user = state.add_user()
        code = state.issue_code(user.open_id, SCOPES, state.app.client_key, state.app.redirect_uri)
        with state.lock:
            redeemed = state.codes.pop(code)
            auth, access_token = state.new_authorization(redeemed)
            found.append(grant_json(state, auth, access_token))
    return flask.jsonify({"grants": found}), 201


@bp.get("/calls")
def calls() -> flask.Response:
    """Call counts per endpoint and each endpoint's last request, secrets masked."""
    state = world()
    with state.lock:
        return flask.jsonify({"counts": dict(state.calls), "last": state.last_requests})


@bp.get("/authorizations")
def authorizations() -> flask.Response:
    open_id = flask.request.args.get("open_id")
    state = world()
    with state.lock:
        now = state.now()
        found = [
            {
                "open_id": auth.open_id,
                "scopes": list(auth.scopes),
                "revoked": auth.revoked,
                "live": not auth.revoked and auth.refresh_expires_at > now,
                "refreshes": auth.refreshes,
                "created_at": auth.created_at,
            }
            for auth in state.authorizations.values()
            if open_id is None or auth.open_id == open_id
        ]
        return flask.jsonify({"authorizations": found})
