"""The HTTP edge shared by every function: routing, JSON bodies, errors, cookies, Origin, auth.

A function module declares its routes and hands them to :func:`entrypoint`, which returns the
callable functions-framework serves. The wrapper sets the trace for log lines, checks ``Origin`` on
state-changing requests, verifies the session cookie on authenticated routes, and turns every
:class:`~shared.errors.AppError` into the error body ``{"error": {"code", "message", ...}}``;
anything else becomes a bare 500 logged with its stack trace.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as _WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as _WerkzeugNotFound
from werkzeug.routing import Map, Rule

from shared import errors, logs, runtime
from shared.config import is_loopback
from shared.store.outage import outage_error
from shared.web import bodies
from shared.web.bodies import read_body as read_body  # Re-exported for the functions.
from shared.web.fields import check_values
from shared.web.sessions import SESSION_COOKIE, SessionUser

log = logging.getLogger(__name__)

JSON_LIMIT = 64 * 1024
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Call:
    """What a handler receives: the request, the path parameters and the signed-in user."""

    request: flask.Request
    params: Mapping[str, str]
    user: SessionUser | None = None

    @property
    def uid(self) -> str:
        if self.user is None:  # Only reachable through a route declared without auth.
            raise errors.Internal("route has no signed-in user")
        return self.user.uid


Handler = Callable[[Call], flask.Response]


@dataclass(frozen=True)
class Route:
    """One method and path served by a function.

    ``auth``: the session cookie is required. ``same_origin``: state-changing requests must carry
    the frontend's ``Origin`` (off only for callers that are not browsers, like TikTok's webhook).
    """

    method: str
    path: str
    handler: Handler
    auth: bool = True
    same_origin: bool = True


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> flask.Response:
    response = flask.Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def redirect(location: str) -> flask.Response:
    response = flask.Response("", status=302)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(error: errors.AppError) -> flask.Response:
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(error.retry_after)))
    return json_response(error.body(), error.http_status, headers)


def read_json(request: flask.Request, limit: int = JSON_LIMIT) -> dict[str, Any]:
    """The request body as a JSON object; 415, 413 or 400 with a message saying what is wrong."""
    mimetype = request.mimetype
    if mimetype != "application/json":
        raise errors.UnsupportedMediaType(
            f"the body must be application/json, got {mimetype or 'no Content-Type'}"
        )
    raw = read_body(request, limit)
    if not raw:
        raise errors.InvalidArgument("the request body is empty; a JSON object is expected")
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, _NotJson) as exc:
        raise errors.InvalidArgument(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise errors.InvalidArgument(
            "the body nests objects or arrays too deeply", reason="request.too_deep"
        ) from None
    except ValueError:  # An integer past Python's digit limit for int(str) (4300 digits).
        raise errors.InvalidArgument(
            "the body holds an integer with too many digits",
            reason="request.integer_out_of_range",
        ) from None
    if not isinstance(value, dict):
        raise errors.InvalidArgument("the body must be a JSON object")
    check_values(value)
    return value


class _NotJson(ValueError):
    """A literal Python's parser accepts but JSON does not have."""


def _no_constant(name: str) -> object:
    """``NaN`` and ``Infinity`` are not JSON (RFC 8259 section 6), whatever Python accepts."""
    raise _NotJson(f"{name} is not a JSON value")


def set_session_cookie(response: flask.Response, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        path="/",
        secure=runtime.settings().secure_cookies,
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: flask.Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=runtime.settings().secure_cookies,
        httponly=True,
        samesite="Lax",
    )


MAX_ORIGIN_SHOWN = 100


def check_origin(request: flask.Request, app_origin: str) -> None:
    """State-changing requests must come from the frontend's origin (CSRF defence).

    Exactly ``APP_ORIGIN``, nothing else. The refusal names the origin expected, so a developer
    who opened the app under another name sees which one to use.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        raise errors.PermissionDenied(
            f"state-changing requests must carry an Origin header from the app's origin "
            f"({app_origin})"
        )
    if origin != app_origin:
        shown = origin if len(origin) <= MAX_ORIGIN_SHOWN else origin[:MAX_ORIGIN_SHOWN] + "…"
        message = f"cross-site request refused: Origin must be {app_origin}, not {shown}"
        if _loopback_twins(origin, app_origin):
            message += (
                " (localhost and 127.0.0.1 are different origins to a browser, with cookies of "
                f"their own: open the app at {app_origin}/)"
            )
        raise errors.PermissionDenied(message)


def _loopback_twins(origin: str, app_origin: str) -> bool:
    """The same scheme and port under another loopback name (localhost for 127.0.0.1, say)."""
    try:
        one, other = urlsplit(origin), urlsplit(app_origin)
        ports = (one.port, other.port)
    except ValueError:
        return False
    return (
        one.scheme == other.scheme
        and ports[0] == ports[1]
        and one.hostname != other.hostname
        and all(h is not None and is_loopback(h) for h in (one.hostname, other.hostname))
    )


def authenticate(request: flask.Request) -> SessionUser:
    """The signed-in user: a valid cookie whose session record still exists (one Firestore read).

    The record is what signing out, signing out everywhere and account deletion remove, so a
    cookie stops working on every route and every instance the moment its session ends.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise errors.Unauthenticated("sign in first: no session cookie")
    try:
        user = runtime.session_codec().verify(token)
        runtime.session_store().check(user.uid, user.sid)
    except errors.Unauthenticated as exc:
        raise _CookieRefused(exc.message, reason=exc.reason, **exc.details) from None
    return user


class _CookieRefused(errors.Unauthenticated):
    """The session cookie was sent but is invalid or its session has ended."""


def entrypoint(routes: list[Route]) -> Callable[[flask.Request], flask.Response]:
    """Build the functions-framework HTTP callable serving ``routes``."""
    url_map = Map([Rule(r.path, endpoint=i, methods=[r.method]) for i, r in enumerate(routes)])

    def serve(request: flask.Request) -> flask.Response:
        bodies.limit_idle(request)
        try:
            return bodies.finish(request, answer(request))
        finally:
            runtime.drain_events_after_request()  # best effort (shared/store/outbox.py)

    def answer(request: flask.Request) -> flask.Response:
        logs.configure()
        token = logs.set_trace(None)
        try:
            settings = runtime.settings()
            logs.set_trace(logs.trace_from_headers(dict(request.headers), settings.project_id))
            adapter = url_map.bind_to_environ(request.environ)
            try:
                index, params = adapter.match(request.path, method=request.method)
            except _WerkzeugNotFound:
                raise errors.NotFound(f"no route for {request.path}") from None
            except _WerkzeugMethodNotAllowed as exc:
                allowed = ", ".join(sorted(exc.valid_methods or []))
                response = error_response(
                    errors.MethodNotAllowed(
                        f"{request.method} is not allowed on {request.path}; use {allowed}"
                    )
                )
                response.headers["Allow"] = allowed  # RFC 9110 §15.5.6: a 405 lists them.
                return response
            route = routes[int(index)]
            if route.same_origin and request.method in STATE_CHANGING:
                check_origin(request, settings.app_origin)
            user = authenticate(request) if route.auth else None
            return route.handler(Call(request=request, params=params, user=user))
        except errors.AppError as exc:
            if exc.http_status >= 500:
                log.warning("request failed: %s", exc.message, extra={"code": exc.code})
            response = error_response(exc)
            if isinstance(exc, _CookieRefused) and SESSION_COOKIE in request.cookies:
                clear_session_cookie(response)  # A refused session cookie is of no further use.
            return response
        except errors.ConfigError as exc:
            log.critical("configuration error: %s", exc)
            return json_response(
                {"error": {"code": "INTERNAL", "message": "the service is misconfigured"}}, 500
            )
        except Exception as exc:
            outage = outage_error(exc)
            if outage is not None:  # Firestore unreachable or slow: 503, one line, no internals.
                log.warning(
                    "request failed: %s",
                    outage.message,
                    extra={"code": outage.code, "cause": type(exc).__name__},
                )
                return error_response(outage)
            log.exception("unhandled error on %s %s", request.method, request.path)
            return json_response({"error": {"code": "INTERNAL", "message": "internal error"}}, 500)
        finally:
            logs.reset_trace(token)

    serve._routes = list(routes)  # type: ignore[attr-defined]  # Read back by routes_of().
    return serve


def answer_framework_errors_in_json() -> None:
    """Make the answers functions-framework gives itself JSON with the error body too.

    Its app routes ``/<path:path>``, whose pattern stops at a newline, so ``/api/x/%0A/status``
    never reaches a function; it also answers ``/robots.txt`` and ``/favicon.ico`` and its own
    500s. ``create_app`` executes the entry module (``main.py``) inside that app's context, once
    per app, which is where this is called; outside an app context there is nothing to change.
    """
    if not flask.has_app_context():
        return
    app = flask.current_app
    if app.config.get("PUBLISHER_JSON_ERRORS"):
        return
    app.register_error_handler(HTTPException, _framework_error)
    app.register_error_handler(500, _framework_crash)
    app.config["PUBLISHER_JSON_ERRORS"] = True


_CODE_OF_STATUS = {status: code for code, status in reversed(errors.HTTP_STATUS.items())}


def _framework_error(exc: HTTPException) -> flask.Response:
    status = exc.code or 500
    if status >= 500:
        return _framework_crash(exc)
    code = _CODE_OF_STATUS.get(status, "INVALID_ARGUMENT")
    path = flask.request.path
    message = f"no route for {path}" if status == 404 else f"{exc.name}: {path}"
    response = json_response({"error": {"code": code, "message": message}}, status)
    if isinstance(exc, _WerkzeugMethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def _framework_crash(exc: Exception) -> flask.Response:
    import functions_framework

    log.error("the framework failed on %s %s", flask.request.method, flask.request.path)
    _, _, headers = functions_framework.crash_handler(exc)  # type: ignore[no-untyped-call]
    body = {"error": {"code": "INTERNAL", "message": "internal error"}}
    return json_response(body, 500, headers)


def routes_of(function: object) -> list[Route] | None:
    """The routes an :func:`entrypoint` function serves; None for any other function."""
    routes: list[Route] | None = getattr(function, "_routes", None)
    return routes
