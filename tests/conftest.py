"""Fixtures shared by every tier: the local stack on free ports, started once per run.

Unit tests use none of it. Integration tests get the real Firestore and Auth emulators (wiped
before each test); e2e tests also get the functions dev server, reached over real HTTP.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.stack import Stack
from shared import logs, runtime
from tests.support import AuthEmulator, FakeTikTok, wipe_firestore

# Pub/Sub too: every status change publishes its event (shared/store/outbox.py).
BASE_COMPONENTS = ("firestore", "auth", "pubsub")
LEDGER = "tiktok-secrets.txt"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``after_everything`` (the log scan) run once every other test has."""
    items.sort(key=lambda item: item.get_closest_marker("after_everything") is not None)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The stack object; components start on demand through the fixtures below."""
    from emulator.stack import Ports

    workdir = Path(tempfile.mkdtemp(prefix="publisher-stack-"))
    (workdir / "logs").mkdir()
    # 10 MB chunks, so the e2e uploads (30 MB) go through the relay in several chunks.
    instance = Stack(
        ports=Ports.free(), workdir=workdir, extra_env={"PUBLISH_CHUNK_LIMIT_BYTES": "10000000"}
    )
    saved = dict(os.environ)
    # Every secret the fake TikTok issues or receives, for the log scan (P15).
    os.environ["FAKE_TIKTOK_SECRET_LEDGER"] = str(workdir / LEDGER)
    # This process's own log lines (services called in-process), as Cloud Logging would get them.
    handler = logging.FileHandler(workdir / "logs" / "tests.log", encoding="utf-8")
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield instance
    root.removeHandler(handler)
    root.setLevel(level)
    handler.close()
    instance.stop()
    os.environ.clear()
    os.environ.update(saved)
    runtime.reset()


@pytest.fixture(scope="session")
def emulators(stack: Stack) -> Stack:
    """Firestore and Auth emulators up, and this process's environment pointing at them."""
    if "firestore" not in stack.children:
        stack.start(BASE_COMPONENTS)
        os.environ.update(stack.env())
        runtime.reset()
    return stack


@pytest.fixture(scope="session")
def devserver(emulators: Stack) -> Stack:
    """Every function behind one port with the fake KMS and fake TikTok, as ``scripts/dev`` runs."""
    if "functions" not in emulators.children:
        emulators.start(["kms", "gcs", "tiktok", "functions"])
    return emulators


@pytest.fixture(scope="session")
def gcs(emulators: Stack) -> Stack:
    """fake-gcs-server and the staging bucket, for tests calling the media services in-process."""
    if "gcs" not in emulators.children:
        emulators.start(["gcs"])
    return emulators


@pytest.fixture
def clean(emulators: Stack) -> Stack:
    """Empty Firestore and Auth emulators before the test."""
    wipe_firestore(emulators)
    AuthEmulator(emulators).wipe()
    return emulators


@pytest.fixture
def auth_emulator(clean: Stack) -> AuthEmulator:
    return AuthEmulator(clean)


@pytest.fixture
def fake_tiktok(devserver: Stack) -> FakeTikTok:
    """The fake TikTok's control API, reset before the test."""
    fake = FakeTikTok(devserver.tiktok_url)
    fake.reset()
    return fake


@pytest.fixture
def api(devserver: Stack, clean: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the dev server that sends the app's Origin, like the browser frontend."""
    with httpx.Client(
        base_url=devserver.functions_url,
        headers={"Origin": devserver.functions_url},
        timeout=30,
    ) as client:
        yield client
