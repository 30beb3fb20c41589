"""``GET /api/``, the URL the local stack prints: an index of the API instead of a 404."""

from __future__ import annotations

import httpx
import pytest

from emulator.stack import Stack
from tests.openapi import declared_routes, spec

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["/api/", "/api"])
def test_the_printed_api_url_lists_every_route_with_its_summary(
    devserver: Stack, path: str
) -> None:
    response = httpx.get(devserver.functions_url + path)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    index = response.json()
    assert index["web_app"] == devserver.functions_url + "/"
    listed = {(r["method"], r["path"]) for r in index["routes"]}
    assert listed == declared_routes()
    for route in index["routes"]:
        operation = spec()["paths"][route["path"]][route["method"].lower()]
        assert route["summary"] == operation["summary"]
        assert route["summary"]
    assert index["docs"]["walkthrough"].startswith("docs/walkthrough.md")


def test_the_index_answers_get_only(devserver: Stack) -> None:
    response = httpx.post(
        devserver.functions_url + "/api/", headers={"Origin": devserver.functions_url}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
