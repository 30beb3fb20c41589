"""Every answer of every deployed function is JSON with the error body, even the ones
functions-framework gives before a function runs, and a 405 names the allowed methods."""

from __future__ import annotations

import re
from pathlib import Path

import functions_framework
import pytest
from flask.testing import FlaskClient

import main
from shared.web.http import routes_of

ROOT = Path(__file__).resolve().parents[2]
HTTP_FUNCTIONS = ["accounts", "publish_init", "publish_status", "session", "tiktok_oauth"]


@pytest.fixture(params=HTTP_FUNCTIONS)
def function(request: pytest.FixtureRequest) -> str:
    assert set(HTTP_FUNCTIONS) <= set(main.__all__)
    return str(request.param)


@pytest.fixture
def client(function: str, app_env: dict[str, str]) -> FlaskClient:
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target=function, source=str(ROOT / "main.py"), signature_type="http"
    )
    return app.test_client()  # type: ignore[no-any-return]


def assert_json_error(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.get_data()  # type: ignore[attr-defined]
    assert response.mimetype == "application/json", response.get_data()  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert body["error"]["code"] == code  # type: ignore[index]
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/publish/%0Aabc/status",
        "/api/tiktok/accounts/%0A/videos",
        "/api/%0D%0A",
        "/robots.txt",
        "/favicon.ico",
    ],
)
def test_paths_the_framework_routes_itself_get_a_json_404(client: FlaskClient, path: str) -> None:
    assert_json_error(client.get(path), 404, "NOT_FOUND")


def test_an_undeclared_method_is_a_json_405_with_allow(client: FlaskClient, function: str) -> None:
    routes = routes_of(getattr(main, function)) or []
    path = re.sub(r"<int:[a-z_]+>", "0", routes[0].path)
    path = re.sub(r"<[a-z_]+>", "x1", path)
    response = client.open(path, method="TRACE")
    assert_json_error(response, 405, "METHOD_NOT_ALLOWED")
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {
        r.method
        for r in routes
        if re.sub(r"<[^>]+>", "", r.path) == re.sub(r"<[^>]+>", "", routes[0].path)
    } <= allow
    assert "TRACE" not in allow


def test_the_session_routes_405_names_what_is_allowed(app_env: dict[str, str]) -> None:
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="session", source=str(ROOT / "main.py"), signature_type="http"
    )
    response = app.test_client().open("/api/session", method="TRACE")
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST", "DELETE"}
