"""Login Kit for Web as the fake plays it: consent page, code exchange, refresh, revoke.

Follows docs/tiktok-api.md §1: comma-separated scopes, codes single-use, short-lived and bound
to the client key and redirect URI, flat OAuth errors, refresh tokens rotated on every refresh by
default (https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token) with their
lifetime counted from the first issuance, and revoke killing both tokens of the authorization.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import flask
from werkzeug.wrappers import Response as BaseResponse

from emulator.tiktok import ledger
from emulator.tiktok.common import begin, oauth_error, world
from emulator.tiktok.state import SCOPES, Authorization, World

bp = flask.Blueprint("oauth", __name__)

FORM = "application/x-www-form-urlencoded"


def _page(title: str, body: str, status: int = 200) -> flask.Response:
    doc = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return flask.Response(doc, status=status, mimetype="text/html")


def _check_request(values: dict[str, str]) -> tuple[str, ...] | str:
    """The requested scopes, or why the authorize request is refused."""
    app = world().app
    if values.get("client_key") != app.client_key:
        return "client_key is not a registered app"
    if values.get("redirect_uri") != app.redirect_uri:
        # Never redirect to an unregistered URI: show the error on TikTok's own page (§1.1).
        return "redirect_uri does not match a registered redirect URI"
    scopes = tuple(s.strip() for s in values.get("scope", "").split(",") if s.strip())
    if not scopes or any(scope not in SCOPES for scope in scopes):
        return "scope is empty or names an unknown scope (scopes are comma-separated)"
    return scopes


@bp.get("/v2/auth/authorize/")
def authorize() -> flask.Response:
    failure = begin("authorize", oauth=True)
    if failure is not None:
        return failure
    values = dict(flask.request.args)
    ledger.record(values.get("state"))
    if values.get("response_type") != "code":
        return _page("Invalid request", "<p>response_type must be code</p>", 400)
    checked = _check_request(values)
    if isinstance(checked, str):
        return _page("Invalid request", f"<p>{html.escape(checked)}</p>", 400)
    state = world()
    with state.lock:
        users = list(state.users.values())
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(values.get(name, ''))}'>"
        for name in ("client_key", "redirect_uri", "scope", "state")
    )
    rows = "".join(
        "<form method='post' action='/v2/auth/authorize/decision'>"
        f"{hidden}<input type='hidden' name='open_id' value='{html.escape(user.open_id)}'>"
        f"<p>{html.escape(user.display_name)} (@{html.escape(user.username)}) "
        # Each button names its account, so a browser test can press the one it means.
        f"<button name='decision' value='approve'>Approve as @{html.escape(user.username)}"
        "</button> "
        f"<button name='decision' value='deny'>Deny as @{html.escape(user.username)}</button>"
        "</p></form>"
        for user in users
    )
    scopes = html.escape(", ".join(checked))
    return _page("Authorize app", f"<p>Requested scopes: {scopes}</p>{rows or 'No users.'}")


@bp.post("/v2/auth/authorize/decision")
def decision() -> BaseResponse:
    """The consent form's answer: 302 to the redirect URI with a code or ``access_denied``."""
    failure = begin("decision", oauth=True)
    if failure is not None:
        return failure
    values = dict(flask.request.form)
    checked = _check_request(values)
    if isinstance(checked, str):
        return _page("Invalid request", f"<p>{html.escape(checked)}</p>", 400)
    state = world()
    redirect_uri = values["redirect_uri"]
    echo = {"state": values["state"]} if "state" in values else {}
    if values.get("decision") == "deny":
        query = {"error": "access_denied", "error_description": "The user denied the request."}
        return flask.redirect(f"{redirect_uri}?{urlencode({**query, **echo})}", 302)
    if values.get("decision") != "approve":
        return _page("Invalid request", "<p>decision must be approve or deny</p>", 400)
    with state.lock:
        user = state.users.get(values.get("open_id", ""))
    if user is None:
        return _page("Invalid request", "<p>unknown open_id</p>", 400)
    granted = checked
    if values.get("granted_scopes"):
        subset = tuple(s.strip() for s in values["granted_scopes"].split(",") if s.strip())
        if any(scope not in checked for scope in subset):
            return _page("Invalid request", "<p>granted_scopes must be a subset</p>", 400)
        # user.info.basic is added by default with Login Kit and cannot be toggled off (§1.10).
        granted = tuple(s for s in checked if s in subset or s == "user.info.basic")
    code = state.issue_code(user.open_id, granted, values["client_key"], redirect_uri)
    query = {"code": code, "scopes": ",".join(granted), **echo}
    return flask.redirect(f"{redirect_uri}?{urlencode(query)}", 302)


def grant_json(state: World, auth: Authorization, access_token: str) -> dict[str, object]:
    """The token endpoint's answer for ``access_token`` of ``auth`` (docs/tiktok-api.md §1.5)."""
    now = state.now()
    return {
        "access_token": access_token,
        "expires_in": int(auth.access_tokens[access_token] - now),
        "open_id": auth.open_id,
        # Remaining lifetime: it does not restart on refresh (§1.7).
        "refresh_expires_in": max(1, int(auth.refresh_expires_at - now)),
        "refresh_token": auth.refresh_token,
        "scope": ",".join(auth.scopes),
        "token_type": "Bearer",
    }


def _grant_body(state: World, auth: Authorization, access_token: str) -> flask.Response:
    return flask.jsonify(grant_json(state, auth, access_token))


def _client_refused(form: dict[str, str]) -> flask.Response | None:
    app = world().app
    if form.get("client_key") != app.client_key or form.get("client_secret") != app.client_secret:
        return oauth_error(401, "invalid_client", "Client key or secret is invalid.")
    return None


def _client_form(endpoint: str) -> dict[str, str] | flask.Response:
    """The form of an app-authenticated OAuth call, or the answer refusing it."""
    failure = begin(endpoint, oauth=True)
    if failure is not None:
        return failure
    if flask.request.mimetype != FORM:
        return oauth_error(400, "invalid_request", "Content-Type must be " + FORM + ".")
    form = dict(flask.request.form)
    refused = _client_refused(form)
    return refused if refused is not None else form


@bp.post("/v2/oauth/token/")
def token() -> flask.Response:
    form = _client_form("token")
    if isinstance(form, flask.Response):
        return form
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange(form)
    if grant_type == "refresh_token":
        return _refresh(form)
    return oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")


def _exchange(form: dict[str, str]) -> flask.Response:
    state = world()
    with state.lock:
        code = state.codes.get(form.get("code", ""))
        if code is None or code.used or code.expires_at <= state.now():
            return oauth_error(400, "invalid_grant", "Authorization code is expired or invalid.")
        if code.client_key != form["client_key"]:
            return oauth_error(400, "invalid_grant", "Authorization code is expired or invalid.")
        if code.redirect_uri != form.get("redirect_uri"):
            # The wording of TikTok's own example (docs/tiktok-api.md §1.8).
            return oauth_error(
                400,
                "invalid_request",
                "Redirect_uri is not matched with the uri when requesting code.",
            )
        code.used = True
        auth, access_token = state.new_authorization(code)
        return _grant_body(state, auth, access_token)


def _refresh(form: dict[str, str]) -> flask.Response:
    state = world()
    with state.lock:
        auth = state.authorization_for_refresh(form.get("refresh_token", ""))
        if auth is None or auth.client_key != form["client_key"]:
            return oauth_error(400, "invalid_grant", "Refresh token is invalid or expired.")
        if state.config.rotate_refresh_tokens:
            state.rotate_refresh_token(auth)
        auth.refreshes += 1
        access_token = state.new_access_token(auth)
        return _grant_body(state, auth, access_token)


@bp.post("/v2/oauth/revoke/")
def revoke() -> flask.Response:
    """Revoke by access token (§1.9); an unknown token is already as revoked as it gets."""
    form = _client_form("revoke")
    if isinstance(form, flask.Response):
        return form
    if not form.get("token"):
        return oauth_error(400, "invalid_request", "token is required.")
    state = world()
    with state.lock:
        auth = state.authorizations.get(state.by_access.get(form["token"], ""))
        if auth is not None:
            state.revoke(auth)
    return flask.jsonify({})
