"""The browser tier: Debian's Chromium driven by Playwright against the whole local stack.

The stack (emulators, fake KMS, fake TikTok, every function and the built web app on one port)
starts once per run (tests/conftest.py); one browser is shared, each test gets a new context.
Every request that leaves the loopback interface is aborted, except Google's ``api.js`` loader,
which is fulfilled with a test-only stub (``gapi_stub.js``) so the real "Sign in with Google"
popup works against the Auth emulator offline. A request the app's own pages make to the internet
fails the test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from emulator.stack import Stack
from tests.browser.media import AssetServer
from tests.support import AuthEmulator, FakeTikTok

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
GAPI = "https://apis.google.com/js/api.js"
GAPI_STUB = (Path(__file__).parent / "gapi_stub.js").read_text()
LOOPBACK = ("http://127.0.0.1:", "http://localhost:")
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}

# Assertions wait as long as actions do (the context's default, below). Playwright's own 5 s made
# assertions that follow a request through the stack fail on a busy two-core machine (CI runs the
# emulators, the dev server and Chromium side by side), while a real failure still shows in 15 s.
expect.set_options(timeout=15000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def built_app() -> Path:
    """public/ built from web/ (scripts/test builds it first; a bare pytest run builds here)."""
    index = ROOT / "public" / "index.html"
    if not index.exists():
        subprocess.run([str(ROOT / "scripts" / "build-web"), "--no-typecheck"], check=True)
    return index


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    args = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    instance = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def assets() -> Iterator[AssetServer]:
    with AssetServer() as server:
        yield server


@dataclass
class Web:
    """One browser context on the app, and what it sent."""

    stack: Stack
    context: BrowserContext
    page: Page
    fake: FakeTikTok
    assets: AssetServer
    blocked: list[str] = field(default_factory=list)
    api_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.stack.functions_url

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def calls(self, method: str, path_prefix: str) -> list[dict[str, Any]]:
        return [
            c for c in self.api_calls if c["method"] == method and c["path"].startswith(path_prefix)
        ]

    def sign_in(self, email: str = "ann@example.com", name: str = "Ann Creator") -> None:
        """Open the app, press "Sign in with Google" and sign in through the Auth emulator's
        popup; the app lands on the accounts page."""
        self.goto("/")
        expect(self.page.get_by_role("heading", name="Sign in")).to_be_visible()
        self.sign_in_with_popup("Your TikTok accounts", email, name)

    def sign_in_with_popup(
        self, lands_on: str, email: str = "ann@example.com", name: str = "Ann Creator"
    ) -> None:
        """On the sign-in page already shown: press "Sign in with Google", sign in through the
        Auth emulator's popup and wait for the page headed ``lands_on``. The popup's first load
        and the session exchange are slow on a busy machine, hence the long wait."""
        page = self.page
        with page.expect_popup() as popup_info:
            page.get_by_role("button", name="Sign in with Google").click()
        popup = popup_info.value
        popup.wait_for_load_state()
        popup.locator("#add-account-button button").click()
        popup.locator("#email-input").fill(email)
        popup.locator("#display-name-input").fill(name)
        popup.locator("#sign-in").click()
        expect(page.get_by_role("heading", name=lands_on)).to_be_visible(timeout=30000)

    def sign_in_quick(self, email: str = "ann@example.com", name: str = "Ann Creator") -> None:
        """Signed in without the popup (Google sign-in through the Auth emulator's REST API, then
        POST /api/session from the page's context), for tests about other pages; the popup
        itself is tested by the journey and the session tests."""
        answer = AuthEmulator(self.stack).sign_in_with_google(
            email=email, name=name, picture=self.assets.url("avatar.jpg")
        )
        id_token = answer["idToken"]
        response = self.page.request.post(
            self.base + "/api/session", data={"id_token": id_token}, headers={"Origin": self.base}
        )
        assert response.status == 200, response.text()
        self.goto("/accounts")
        expect(self.page.get_by_role("heading", name="Your TikTok accounts")).to_be_visible()

    def connect(self, username: str, button: str = "Connect a TikTok account") -> None:
        """Connect through the fake TikTok's consent page, approving as ``@username``."""
        page = self.page
        page.get_by_role("link", name=button).click()
        page.get_by_role("button", name=f"Approve as @{username}").click()
        expect(page.get_by_text("is connected")).to_be_visible()


@pytest.fixture
def web(
    request: pytest.FixtureRequest,
    built_app: Path,
    devserver: Stack,
    clean: Stack,
    fake_tiktok: FakeTikTok,
    browser: Browser,
    assets: AssetServer,
) -> Iterator[Web]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15000)
    page = context.new_page()
    web = Web(devserver, context, page, fake_tiktok, assets)
    app_origin = devserver.functions_url

    def route(route: Route, request: Request) -> None:
        url = request.url
        if url.startswith(GAPI):
            route.fulfill(status=200, content_type="text/javascript", body=GAPI_STUB)
        elif url.startswith(LOOPBACK) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            try:
                frame_url = request.frame.url
            except Exception:  # A service worker or a request without a frame.
                frame_url = ""
            if frame_url.startswith(app_origin):
                web.blocked.append(url)
            route.abort()

    context.route("**/*", route)

    def record(request: Request) -> None:
        if request.url.startswith(app_origin + "/api/"):
            path = request.url[len(app_origin) :]
            body = request.post_data if request.method in ("POST", "PATCH", "DELETE") else None
            web.api_calls.append({"method": request.method, "path": path, "body": body})

    context.on("request", record)
    yield web
    artifacts = os.environ.get("BROWSER_ARTIFACTS")
    if artifacts and request.node.stash.get(FAILED, False):
        folder = Path(artifacts)
        folder.mkdir(parents=True, exist_ok=True)
        for i, open_page in enumerate(context.pages):
            name = f"{request.node.name}-{i}"
            open_page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            (folder / f"{name}.html").write_text(open_page.content())
    context.close()
    assert web.blocked == [], f"the app tried to reach the internet: {web.blocked}"


def make_creator(web: Web, **fields: Any) -> dict[str, Any]:
    """A TikTok account on the fake, with a loopback avatar and media URLs TikTok may pull."""
    web.fake.control("POST", "config", json={"verified_url_prefixes": [web.assets.base + "/"]})
    values: dict[str, Any] = {
        "display_name": "Casey Creator",
        "username": "casey.creates",
        "avatar_url": web.assets.url("avatar.jpg"),
        "stats": {
            "follower_count": 12840,
            "following_count": 311,
            "likes_count": 402113,
            "video_count": 87,
        },
    }
    values.update(fields)
    user: dict[str, Any] = web.fake.create_user(**values)
    return user


@pytest.fixture
def creator(web: Web) -> dict[str, Any]:
    return make_creator(web)
