"""The web app's weight and speed on the local stack (printed figures, not a timed test).

For each page: the JavaScript and CSS it loads (bytes as shipped, and gzipped as Hosting serves
them) and the number of requests its load makes (only the sign-in page loads the Firebase
chunk). Then the time from navigation to the "Post to TikTok" page being usable (creator info
fetched, the form ready), median of several loads. Target: at most 150 KB of gzipped
JavaScript on any page but the analytics page, which loads the chart library: 250 KB there.

Run: ``.venv/bin/python bench/web.py [--loads 7]`` (builds the app if public/ is missing).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Response, sync_playwright

from emulator.stack import Ports, Stack
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser

ROOT = Path(__file__).resolve().parent.parent

LIMIT_GZIP_JS = 150_000
LIMIT_ANALYTICS_GZIP_JS = 250_000
PAGES = ["/signin", "/accounts", "/post", "/history", "/videos", "/data", "/accounts/{}/analytics"]
ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]  # fmt: skip


class Loads:
    """Requests and script/style bodies seen by a page."""

    def __init__(self, page: Page) -> None:
        self.requests = 0
        self.assets: dict[str, tuple[str, bytes]] = {}
        page.on("request", lambda _: self._count())
        page.on("response", self._record)

    def _count(self) -> None:
        self.requests += 1

    def _record(self, response: Response) -> None:
        kind = response.request.resource_type
        if kind in ("script", "stylesheet") and response.ok:
            self.assets[response.url] = (kind, response.body())

    def sizes(self, kind: str) -> tuple[int, int]:
        bodies = [body for k, body in self.assets.values() if k == kind]
        return sum(len(b) for b in bodies), sum(len(gzip.compress(b, 9)) for b in bodies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7, help="post page loads to time")
    args = parser.parse_args()
    if not (ROOT / "public" / "index.html").exists():
        subprocess.run([str(ROOT / "scripts" / "build-web")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp))
        stack.start(["firestore", "auth", "kms", "tiktok", "functions"])
        try:
            run(stack, args.loads)
        finally:
            stack.stop()
    return 0


def session_cookie(stack: Stack) -> tuple[dict[str, Any], str]:
    fake = FakeTikTok(stack.tiktok_url)
    fake.reset()
    creator = fake.create_user(display_name="Bench", username="bench", avatar_url="")
    client = new_browser(stack, AuthEmulator(stack), "bench@example.com")
    connect_account(client, fake, creator["open_id"])
    value = client.cookies["__session"]
    cookie = {"name": "__session", "value": value, "url": stack.functions_url}
    return cookie, creator["open_id"]


def run(stack: Stack, loads: int) -> None:
    cookie, open_id = session_cookie(stack)
    base = stack.functions_url
    with sync_playwright() as driver:
        args = ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        print(f"{'page':<10} {'JS bytes':>9} {'JS gzip':>8} {'CSS bytes':>9} {'CSS gzip':>8} "
              f"{'requests':>8}")  # fmt: skip
        worst = analytics = 0
        for template in PAGES:
            path = template.format(open_id)
            context = browser.new_context()
            if path != "/signin":
                context.add_cookies([cookie])  # type: ignore[list-item]
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith("http://127.0.0.1")
                    else route.abort()
                ),
            )
            page = context.new_page()
            seen = Loads(page)
            page.goto(base + path, wait_until="networkidle")
            requests = seen.requests
            js, js_gz = seen.sizes("script")
            css, css_gz = seen.sizes("stylesheet")
            if "/analytics" in path:
                analytics = js_gz
                path = "analytics"
            else:
                worst = max(worst, js_gz)
            print(f"{path:<10} {js:>9,} {js_gz:>8,} {css:>9,} {css_gz:>8,} {requests:>8}")
            context.close()
        print(
            f"\nlargest gzipped JavaScript on a page: {worst:,} bytes "
            f"(target at most {LIMIT_GZIP_JS:,}: {'met' if worst <= LIMIT_GZIP_JS else 'MISSED'})"
        )
        met = "met" if analytics <= LIMIT_ANALYTICS_GZIP_JS else "MISSED"
        print(
            f"the analytics page (with uPlot): {analytics:,} bytes "
            f"(target at most {LIMIT_ANALYTICS_GZIP_JS:,}: {met})"
        )

        context = browser.new_context()
        context.add_cookies([cookie])  # type: ignore[list-item]
        page = context.new_page()
        times = []
        for _ in range(loads + 1):
            started = time.perf_counter()
            page.goto(base + "/post")
            page.get_by_label("Privacy").wait_for()
            page.get_by_label("Video file").wait_for()
            times.append(time.perf_counter() - started)
        times = times[1:]  # The first load warms the functions process.
        print(
            f"navigation to a usable post page (creator info fetched from the fake TikTok), "
            f"{loads} loads: median {statistics.median(times) * 1000:.0f} ms, "
            f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
        )
        context.close()
        browser.close()


if __name__ == "__main__":
    raise SystemExit(main())
