"""A Firestore outage over real HTTP: the functions answer 503 UNAVAILABLE with Retry-After.

The functions run against a Firestore emulator of this module's own (never the shared one),
which is paused (a Firestore that stops answering) and then stopped (a dead port) between
requests: each request gets the JSON error body within seconds, the function logs one warning
line with no trace, and nothing the failed request started is found stored afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.procs import free_port
from emulator.stack import Stack
from shared.store.client import CALL_BUDGET_SECONDS
from shared.store.outage import RETRY_AFTER_SECONDS
from tests.support import AuthEmulator, all_documents, new_browser

pytestmark = pytest.mark.e2e

PUBLISH = {
    "open_id": "o1",
    "mode": "inbox",
    "media": {"type": "video", "source": "file", "size": 1_000_000},
}


@pytest.fixture(scope="module")
def own(devserver: Stack) -> Iterator[Stack]:
    """Functions and a Firestore emulator of their own; Auth, KMS and TikTok are the shared ones."""
    ports = dataclasses.replace(devserver.ports, firestore=free_port(), functions=free_port())
    stack = Stack(
        ports=ports,
        workdir=Path(tempfile.mkdtemp(prefix="publisher-outage-")),
        tiktok_client_secret=devserver.tiktok_client_secret,
        extra_env=dict(devserver.extra_env),
    )
    stack.start(["firestore", "functions"])
    yield stack
    firestore = stack.children.get("firestore")
    if firestore is not None and firestore.process.poll() is None:
        os.kill(firestore.pid, signal.SIGCONT)  # in case the test stopped half-way
    stack.stop()


def unavailable_lines(stack: Stack, since: int) -> list[dict[str, object]]:
    text = stack.children["functions"].log_path.read_bytes()[since:].decode()
    return [json.loads(line) for line in text.splitlines() if '"UNAVAILABLE"' in line]


def log_size(stack: Stack) -> int:
    return stack.children["functions"].log_path.stat().st_size


def assert_503(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "error": {
            "code": "UNAVAILABLE",
            "message": "the database is unavailable right now; try again in a few seconds",
            "reason": "store.unavailable",
        }
    }
    assert elapsed < 3 * CALL_BUDGET_SECONDS  # not the library's 60 to 300 s of retries


def timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()  # type: ignore[operator]
    return response, time.monotonic() - started


def test_a_paused_then_dead_firestore_is_a_503_and_nothing_is_half_written(
    own: Stack, devserver: Stack
) -> None:
    browser = new_browser(own, AuthEmulator(devserver), "outage@example.com")
    assert browser.get("/api/tiktok/accounts").json() == {"accounts": []}
    before = all_documents(own)
    firestore = own.children["firestore"]

    os.kill(firestore.pid, signal.SIGSTOP)  # Firestore stops answering
    try:
        for call in (
            lambda: browser.post("/api/publish", json=PUBLISH),
            lambda: browser.get("/api/tiktok/accounts"),
        ):
            since = log_size(own)
            response, elapsed = timed(call)
            assert_503(response, elapsed)
            lines = unavailable_lines(own, since)
            assert len(lines) == 1, lines
            assert lines[0]["severity"] == "WARNING"
            assert "Traceback" not in json.dumps(lines[0])
    finally:
        os.kill(firestore.pid, signal.SIGCONT)

    assert all_documents(own) == before  # the publish that failed left no post behind

    own.children.pop("firestore").stop()  # now nothing listens on its port
    since = log_size(own)
    response, elapsed = timed(lambda: browser.get("/api/tiktok/accounts"))
    assert_503(response, elapsed)
    assert len(unavailable_lines(own, since)) == 1
    assert "Traceback" not in own.children["functions"].log_path.read_text()
