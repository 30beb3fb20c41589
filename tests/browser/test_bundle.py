"""What ships in public/: the built app only, nothing fetched from elsewhere at run time, no
test-only code (the gapi stub lives under tests/), and the JavaScript each page loads within its
budget (the chart library only on the analytics page)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import ROOT, Web


def test_the_bundle_loads_nothing_from_another_origin(built_app: Path) -> None:
    public = built_app.parent
    html = built_app.read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/assets/") for s in sources), sources
    for file in public.rglob("*.css"):
        assert not re.search(r"url\((['\"]?)https?:", file.read_text()), file
        assert "@import" not in file.read_text(), file


def test_the_test_only_gapi_stub_is_not_shipped(built_app: Path) -> None:
    for file in built_app.parent.rglob("*"):
        if file.is_file():
            assert b"__gapi_stub__" not in file.read_bytes(), file


# The web app's JavaScript budget (gzipped, as Hosting serves it): every page at most 150 KB,
# the analytics page, which alone loads the chart library, at most 250 KB.
PAGE_BUDGET = 150_000
ANALYTICS_BUDGET = 250_000
META = ROOT / "web" / "meta.json"


def _closure(outputs: dict[str, Any], start: str) -> set[str]:
    """``start`` and every chunk it imports statically (what loads with it)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [i["path"] for i in outputs[name]["imports"] if i["kind"] == "import-statement"]
    return seen


def _entry(outputs: dict[str, Any], source: str) -> str:
    (name,) = [n for n, o in outputs.items() if o.get("entryPoint") == source]
    return name


def _gzipped(names: set[str]) -> int:
    return sum(len(gzip.compress((ROOT / "web" / n).read_bytes(), 9)) for n in names)


def test_every_page_keeps_the_javascript_budget(built_app: Path) -> None:
    outputs: dict[str, Any] = json.loads(META.read_text())["outputs"]
    shell = _closure(outputs, _entry(outputs, "src/main.tsx"))
    sign_in = shell | _closure(outputs, _entry(outputs, "src/firebase.ts"))
    analytics = shell | _closure(outputs, _entry(outputs, "src/pages/analytics.tsx"))
    chart_library = {
        n
        for n in analytics
        if any(
            "node_modules/uplot/" in i and used["bytesInOutput"] > 0
            for i, used in outputs[n]["inputs"].items()
        )
    }
    assert chart_library, "uPlot is bundled into the analytics page's chunks"
    assert not chart_library & sign_in, "uPlot must load only with the analytics page"
    assert _gzipped(shell) <= PAGE_BUDGET
    assert _gzipped(sign_in) <= PAGE_BUDGET
    assert _gzipped(analytics) <= ANALYTICS_BUDGET


def test_only_the_analytics_page_loads_its_chunk(web: Web, creator: dict[str, Any]) -> None:
    scripts: list[str] = []
    web.page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    web.sign_in_quick()
    web.connect(creator["username"])
    for name in ("Post to TikTok", "History", "Videos", "My data", "Accounts"):
        web.page.get_by_role("navigation").get_by_role("link", name=name).click()
        web.page.wait_for_load_state("networkidle")
    assert scripts
    assert not [s for s in scripts if "/analytics-" in s]
    web.page.get_by_role("link", name="Analytics").click()
    expect(web.page.get_by_role("heading", name="Analytics for @casey.creates")).to_be_visible()
    assert [s for s in scripts if "/analytics-" in s]
