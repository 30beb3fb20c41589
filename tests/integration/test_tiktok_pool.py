"""The TikTok client keeps every connection the scheduled jobs use open between calls.

The due run, the token refresh and the analytics snapshot each call TikTok from up to
``CONCURRENCY`` threads at once. If the client's pool kept fewer idle connections than that, each
wave of calls would close the surplus and open it again, which against TikTok is a TLS handshake
per call (CPU and a round trip) for nothing. A real HTTP/1.1 server on a free port counts the
connections it accepts; nothing is mocked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from shared.analytics import scheduler as analytics_scheduler
from shared.publishing import due_run
from shared.tiktok.client import make_http_client
from shared.tokens import scheduler as refresh_scheduler
from tests.support import serve_http


class CountingServer:
    """Answers 200 once ``parties`` requests are in at the same time; counts connections."""

    def __init__(self, parties: int) -> None:
        self.connections = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(parties, timeout=10)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with owner.lock:
                    owner.connections += 1

            def do_GET(self) -> None:
                owner.barrier.wait()  # every call in flight at once, as a job's wave is
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.handler: type[BaseHTTPRequestHandler] = Handler
        self.url = ""  # once it is served


@pytest.fixture
def server() -> Iterator[CountingServer]:
    concurrency = max(
        due_run.CONCURRENCY, refresh_scheduler.CONCURRENCY, analytics_scheduler.CONCURRENCY
    )
    counting = CountingServer(concurrency)
    with serve_http(counting.handler) as base:
        counting.url = base
        yield counting


def wave(client: httpx.Client, calls: int) -> list[int]:
    with ThreadPoolExecutor(calls) as pool:
        return list(pool.map(lambda _: client.get("/v2/user/info/").status_code, range(calls)))


def test_a_second_wave_of_concurrent_calls_reuses_every_connection(
    server: CountingServer,
) -> None:
    calls = server.barrier.parties
    with make_http_client(server.url) as client:
        assert wave(client, calls) == [200] * calls
        assert server.connections == calls
        assert wave(client, calls) == [200] * calls
        assert wave(client, calls) == [200] * calls
    assert server.connections == calls  # none closed and opened again
