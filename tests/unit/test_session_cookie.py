"""The session cookie's attributes, for https (production) and http (local) app origins."""

from __future__ import annotations

import flask
import pytest

from shared import runtime
from shared.web.http import set_session_cookie


def cookie_for(origin: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("APP_ORIGIN", origin)
    runtime.reset()
    response = flask.Response()
    set_session_cookie(response, "token-value", 3600)
    return response.headers["Set-Cookie"]


@pytest.mark.usefixtures("app_env")
def test_cookie_is_secure_when_the_app_origin_is_https(monkeypatch: pytest.MonkeyPatch) -> None:
    cookie = cookie_for("https://app.example.com", monkeypatch)
    parts = [part.strip() for part in cookie.split(";")]
    assert parts[0] == "__session=token-value"
    assert {"Secure", "HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=3600"} <= set(parts)


@pytest.mark.usefixtures("app_env")
def test_cookie_is_not_secure_for_a_local_http_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-local")
    cookie = cookie_for("http://127.0.0.1:5000", monkeypatch)
    assert "Secure" not in cookie
    assert "HttpOnly" in cookie
