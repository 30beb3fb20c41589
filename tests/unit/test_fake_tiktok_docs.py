"""docs/fake-tiktok.md documents every control route and setting the fake has, and is linked."""

from __future__ import annotations

import dataclasses
import re

from emulator.stack import ROOT
from emulator.tiktok import create_app
from emulator.tiktok.state import ENDPOINTS, App, Config

DOC = ROOT / "docs" / "fake-tiktok.md"


def placeholders(path: str) -> str:
    return re.sub(r"<[^>]+>", "<>", path)


def documented_paths() -> set[str]:
    return {placeholders(p) for p in re.findall(r"/_control/[\w/<>.-]*", DOC.read_text())}


def test_every_control_route_is_documented() -> None:
    app = create_app(App("key", "secret", "http://127.0.0.1:5000/api/tiktok/callback"))
    routes = {
        placeholders(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/_control/")
    }
    assert len(routes) > 15
    assert routes - documented_paths() == set()


def test_every_setting_and_endpoint_name_is_documented() -> None:
    text = DOC.read_text()
    for name in [f.name for f in dataclasses.fields(Config)] + ["lifetimes"]:
        assert f"`{name}`" in text, name
    for endpoint in ENDPOINTS:
        assert f"`{endpoint}`" in text, endpoint


def test_the_readme_links_it() -> None:
    assert "(docs/fake-tiktok.md)" in (ROOT / "README.md").read_text()
