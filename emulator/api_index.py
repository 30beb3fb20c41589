"""``GET /api/`` on the dev server: an index of the API, read from ``openapi.yaml``.

The URL the local stack prints is ``/api/``; no function serves that path (Firebase Hosting
would not route it either), so the dev server answers it with every operation of the spec
(method, path, summary) and where the web app and the documentation are, instead of a 404.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
DOCS = {
    "api": "openapi.yaml",
    "local_stack": "README.md",
    "walkthrough": "docs/walkthrough.md",
    "fake_tiktok": "docs/fake-tiktok.md",
}


@cache
def _spec(path: Path = SPEC) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def routes(path: Path = SPEC) -> list[dict[str, str]]:
    """Every operation in the spec's order: method, path template and summary."""
    return [
        {"method": method.upper(), "path": route, "summary": str(item[method].get("summary", ""))}
        for route, item in _spec(path)["paths"].items()
        for method in METHODS
        if method in item
    ]


def index(origin: str) -> dict[str, Any]:
    """The body of ``GET /api/`` for a dev server reached at ``origin``."""
    info = _spec()["info"]
    return {
        "name": info["title"],
        "version": info["version"],
        "web_app": f"{origin}/",
        "docs": {name: f"{target} (in the repository)" for name, target in DOCS.items()},
        "routes": routes(),
    }
