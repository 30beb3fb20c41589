"""The HTTP edge: routing, body limits, Origin checks, auth and the error body."""

from __future__ import annotations

import json
import logging
from typing import Any

import flask
import pytest

from shared import errors, runtime
from shared.store.sessions import new_session_id
from shared.web.http import Call, Route, check_origin, entrypoint, json_response, read_json

ORIGIN = "https://app.example.com"
app = flask.Flask(__name__)


def echo(call: Call) -> flask.Response:
    return json_response({"body": read_json(call.request), "uid": call.uid})


def open_echo(call: Call) -> flask.Response:
    return json_response({"body": read_json(call.request)})


def boom(call: Call) -> flask.Response:
    raise RuntimeError("database password is hunter2-secret-value")


def refuse(call: Call) -> flask.Response:
    raise errors.FailedPrecondition(
        "the creator cannot post now", reason="tiktok.spam_risk_too_many_posts", log_id="L1"
    )


serve = entrypoint(
    [
        Route("POST", "/api/echo", echo),
        Route("POST", "/api/open", open_echo, auth=False),
        Route("GET", "/api/boom", boom, auth=False),
        Route("GET", "/api/refuse", refuse, auth=False),
        Route(
            "POST",
            "/api/hook",
            lambda call: json_response({"ok": True}),
            auth=False,
            same_origin=False,
        ),
    ]
)


def call(method: str, path: str, *, cookie: bool = True, **kwargs: Any) -> tuple[int, Any]:
    headers = kwargs.pop("headers", {"Origin": ORIGIN})
    if cookie:
        # Signed but naming no session record: unit tests have no Firestore, so only the steps
        # before the session check (routing, Origin) can pass with it.
        token = runtime.session_codec().issue(
            "u1", sid=new_session_id(), email=None, name=None, picture=None
        )
        headers["Cookie"] = f"__session={token}"
    with app.test_request_context(path, method=method, headers=headers, **kwargs):
        response = serve(flask.request)
    return response.status_code, json.loads(response.get_data()) if response.data else None


@pytest.fixture(autouse=True)
def _env(app_env: dict[str, str]) -> None:
    return None


def test_json_body_reaches_the_handler() -> None:
    assert call("POST", "/api/open", json={"a": 1}) == (200, {"body": {"a": 1}})


def test_body_over_64_kib_is_413() -> None:
    status, body = call("POST", "/api/open", json={"a": "x" * 70_000})
    assert status == 413
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "at most 65536" in body["error"]["message"]


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"data": "{nope", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "must be a JSON object"),
        ({"data": "", "content_type": "application/json"}, 400, "body is empty"),
        ({"data": "a=1", "content_type": "text/plain"}, 415, "must be application/json"),
    ],
)
def test_bad_bodies_get_a_clear_error(kwargs: dict[str, Any], status: int, message: str) -> None:
    got_status, body = call("POST", "/api/open", **kwargs)
    assert got_status == status
    assert message in body["error"]["message"]


@pytest.mark.parametrize(
    ("data", "reason", "field"),
    [
        ("[" * 10_000 + "]" * 10_000, "request.too_deep", None),
        ('{"a": ' + "[" * 30 + "]" * 30 + "}", "request.too_deep", "a" + "[0]" * 19),
        ('{"n": ' + "9" * 4_301 + "}", "request.integer_out_of_range", None),
        (
            '{"post": {"cover_timestamp_ms": ' + str(2**63) + "}}",
            "request.integer_out_of_range",
            "post.cover_timestamp_ms",
        ),
        ('{"a": [1, -' + str(2**63 + 1) + "]}", "request.integer_out_of_range", "a[1]"),
        ('{"d": 1e400}', "request.number_out_of_range", "d"),
        ('{"open_id": "\\ud800"}', "request.invalid_unicode", "open_id"),
        ('{"post": {"\\udfff": 1}}', "request.invalid_unicode", "post.\\udfff"),
    ],
)
def test_bodies_python_or_firestore_cannot_hold_are_400_naming_the_field(
    data: str, reason: str, field: str | None
) -> None:
    status, body = call("POST", "/api/open", data=data, content_type="application/json")
    assert status == 400, body
    assert body["error"]["code"] == "INVALID_ARGUMENT"
    assert body["error"]["reason"] == reason
    assert body["error"].get("field") == field


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_refused(constant: str) -> None:
    status, body = call(
        "POST", "/api/open", data='{"d": ' + constant + "}", content_type="application/json"
    )
    assert status == 400
    assert f"{constant} is not a JSON value" in body["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"Origin": "https://evil.example"},
            "cross-site request refused: Origin must be https://app.example.com, "
            "not https://evil.example",
        ),
        ({}, "must carry an Origin header from the app's origin (https://app.example.com)"),
    ],
)
def test_state_changing_request_from_another_origin_is_403(
    headers: dict[str, str], message: str
) -> None:
    status, body = call("POST", "/api/echo", json={}, headers=headers)
    assert status == 403
    assert body["error"]["code"] == "PERMISSION_DENIED"
    assert message in body["error"]["message"]


@pytest.mark.parametrize(
    ("app_origin", "origin", "hint"),
    [
        ("http://127.0.0.1:5000", "http://localhost:5000", True),
        ("http://localhost:5000", "http://127.0.0.1:5000", True),
        ("http://127.0.0.1:5000", "http://localhost:5001", False),  # another port: another app
        ("http://127.0.0.1:5000", "https://localhost:5000", False),
        ("https://app.example.com", "http://localhost:5000", False),
        ("https://app.example.com", "https://app.example.com.evil.example", False),
        ("https://app.example.com", "https://APP.example.com", False),
        ("http://127.0.0.1:5000", "null", False),
    ],
)
def test_only_the_exact_app_origin_passes_and_the_refusal_names_it(
    app_origin: str, origin: str, hint: bool
) -> None:
    """Nothing but APP_ORIGIN itself is accepted, a loopback twin included, in any project."""
    request = flask.Request.from_values("/api/echo", method="POST", headers={"Origin": origin})
    assert isinstance(request, flask.Request)  # werkzeug types from_values as its own Request
    with pytest.raises(errors.PermissionDenied) as refused:
        check_origin(request, app_origin)
    message = str(refused.value)
    assert f"Origin must be {app_origin}, not {origin}" in message
    assert (f"open the app at {app_origin}/" in message) is hint
    exact = flask.Request.from_values("/api/echo", method="POST", headers={"Origin": app_origin})
    assert isinstance(exact, flask.Request)  # werkzeug types from_values as its own Request
    check_origin(exact, app_origin)


def test_a_long_origin_is_cut_in_the_refusal() -> None:
    origin = "https://" + "a" * 500 + ".example"
    request = flask.Request.from_values("/api/echo", method="POST", headers={"Origin": origin})
    assert isinstance(request, flask.Request)  # werkzeug types from_values as its own Request
    with pytest.raises(errors.PermissionDenied) as refused:
        check_origin(request, ORIGIN)
    assert len(str(refused.value)) < 250


def test_routes_without_same_origin_accept_other_callers() -> None:
    assert call("POST", "/api/hook", cookie=False, json={}, headers={}) == (200, {"ok": True})


def test_missing_session_is_401() -> None:
    status, body = call("POST", "/api/echo", cookie=False, json={})
    assert status == 401
    assert body["error"] == {
        "code": "UNAUTHENTICATED",
        "message": "sign in first: no session cookie",
    }


def test_unknown_path_is_404_and_wrong_method_is_405() -> None:
    assert call("GET", "/api/nowhere")[0] == 404
    status, body = call("GET", "/api/echo")
    assert status == 405
    assert "use POST" in body["error"]["message"]


def test_app_error_keeps_reason_and_details() -> None:
    assert call("GET", "/api/refuse") == (
        400,
        {
            "error": {
                "code": "FAILED_PRECONDITION",
                "message": "the creator cannot post now",
                "reason": "tiktok.spam_risk_too_many_posts",
                "log_id": "L1",
            }
        },
    )


def test_unexpected_error_is_a_bare_500_logged_with_its_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        status, body = call("GET", "/api/boom")
    assert (status, body) == (500, {"error": {"code": "INTERNAL", "message": "internal error"}})
    assert any(record.exc_info for record in caplog.records)


def test_misconfiguration_is_a_500_naming_nothing_secret(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("KMS_KEY_NAME")
    runtime.reset()
    with caplog.at_level(logging.CRITICAL):
        status, body = call("GET", "/api/refuse", cookie=False)
    assert status == 500
    assert body["error"]["message"] == "the service is misconfigured"
    assert "KMS_KEY_NAME is not set" in caplog.text


def test_every_canonical_code_has_a_status() -> None:
    for cls in errors.AppError.__subclasses__():
        assert cls.code in errors.HTTP_STATUS
