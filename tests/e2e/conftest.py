"""Fixtures shared by the e2e modules: a media server, Ann signed in with ``creator`` connected,
and the Pub/Sub emulator pushing to the dev server.

Each module defines its own ``creator`` (the TikTok account its tests need); ``ann`` connects it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests.media_server import MediaServer
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    """A loopback media server for TikTok to pull URLs from."""
    with MediaServer() as server:
        yield server


@pytest.fixture
def ann(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok, creator: dict[str, Any]
) -> httpx.Client:
    """Ann's browser, signed in, with the module's ``creator`` account connected."""
    browser = new_browser(devserver, auth_emulator, "ann@example.com")
    assert connect_account(browser, fake_tiktok, creator["open_id"]).status_code == 302
    return browser


@pytest.fixture
def bob(devserver: Stack, auth_emulator: AuthEmulator) -> httpx.Client:
    """Another user's browser, signed in, with nothing connected."""
    return new_browser(devserver, auth_emulator, "bob@example.com")


@pytest.fixture
def pubsub(devserver: Stack, clean: Stack, fake_tiktok: FakeTikTok) -> Stack:
    """The Pub/Sub emulator up, its topics pushing to the dev server's CloudEvent functions."""
    if "pubsub" not in devserver.children:
        devserver.start(["pubsub"])
    return devserver
