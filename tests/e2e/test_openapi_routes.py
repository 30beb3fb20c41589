"""openapi.yaml describes exactly the routes the dev server serves, each routed by firebase.json."""

from __future__ import annotations

import httpx
import pytest

import main
from emulator.devserver import Dispatcher, load_rewrites
from emulator.stack import Stack
from shared.web.http import routes_of
from tests.openapi import declared_routes, to_template

pytestmark = pytest.mark.e2e


def served_routes() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> the function serving it, from every entry point's routes."""
    routes: dict[tuple[str, str], str] = {}
    for name in main.__all__:
        table = routes_of(getattr(main, name))
        for route in table or []:  # CloudEvent functions serve no HTTP route.
            routes[(route.method, to_template(route.path))] = name
    return routes


def test_every_served_route_is_in_openapi_and_nothing_else_is() -> None:
    served = set(served_routes())
    declared = declared_routes()
    assert served - declared == set(), "served but missing from openapi.yaml"
    assert declared - served == set(), "in openapi.yaml but served by no function"


def test_firebase_rewrites_send_every_route_to_its_function() -> None:
    dispatcher = Dispatcher(load_rewrites(), set())
    for (_, template), function in served_routes().items():
        sample = template.replace("{", "").replace("}", "")
        assert dispatcher.target(sample) == function, template


def test_dev_server_answers_every_declared_route(devserver: Stack) -> None:
    """No declared route falls through to the dispatcher's 'no function serves' 404."""
    for method, template in sorted(declared_routes()):
        url = devserver.functions_url + template.replace("{", "x").replace("}", "")
        response = httpx.request(method, url, headers={"Origin": devserver.functions_url})
        assert "no function serves" not in response.text, (method, template)
