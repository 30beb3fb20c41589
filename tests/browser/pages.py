"""Helpers the browser tests share: axe-core checks, screenshots, and posting through the page."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now (WCAG 2.x A/AA)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: "tag", values: [
            "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def assert_accessible(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1)


def shoot(page: Page, name: str) -> None:
    """Save a full-page screenshot when SCREENSHOTS_DIR is set (scripts/screenshots)."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.evaluate("window.scrollTo(0, 0)")  # Sticky parts at their place, as a visitor sees it.
    page.wait_for_timeout(100)
    page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True, animations="disabled")


def open_post_page(page: Page) -> None:
    page.get_by_role("link", name="Post to TikTok").first.click()
    expect(page.get_by_text("Posting to")).to_be_visible()


def choose_video_file(page: Page, path: Path) -> None:
    page.get_by_label("Video file").set_input_files(str(path))
    expect(page.get_by_text("Length: 4 seconds")).to_be_visible()


def choose_privacy(page: Page, label: str) -> None:
    page.get_by_label("Privacy").select_option(label=label)


def publish_bodies(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        json.loads(c["body"])
        for c in calls
        if c["method"] == "POST" and c["path"] == "/api/publish"
    ]
