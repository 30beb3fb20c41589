"""openapi.yaml as a test oracle: which routes it declares, and whether a response fits it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
BASE = "urn:openapi"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def declared_routes() -> set[tuple[str, str]]:
    """(METHOD, path template) pairs, e.g. ("GET", "/api/tiktok/accounts/{open_id}")."""
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        (method.upper(), path)
        for path, item in spec()["paths"].items()
        for method in item
        if method in methods
    }


def to_template(werkzeug_rule: str) -> str:
    """``/a/<open_id>/b/<int:n>`` -> ``/a/{open_id}/b/{n}``."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", werkzeug_rule)


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_response(method: str, template: str, response: httpx.Response) -> None:
    """Fail unless ``response`` has a status and JSON body that the spec declares for the route."""
    operation = spec()["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method} {template} answered {status}, which openapi.yaml does not declare"
    )
    declared = operation["responses"][status]
    pointer = _pointer("paths", template, method.lower(), "responses", status)
    if "$ref" in declared:
        pointer = declared["$ref"].lstrip("#/")
        declared = spec()["components"]["responses"][pointer.rsplit("/", 1)[1]]
    content = declared.get("content", {})
    if "application/json" not in content:
        return
    assert response.headers["content-type"].startswith("application/json")
    registry: Registry[Any] = Registry().with_resource(
        BASE, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{BASE}#/{pointer}/content/application~1json/schema"}
    jsonschema.Draft202012Validator(schema, registry=registry).validate(response.json())
