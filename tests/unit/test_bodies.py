"""Bodies are bounded in memory and in time (in-process, through functions-framework's own app).

What an instance holds for a request is measured with tracemalloc around the whole request,
framework included (its after-request hook is what used to buffer a refused body whole).
"""

from __future__ import annotations

import io
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import flask
import functions_framework
import pytest

from shared import errors
from shared.web import bodies

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


class Zeros(io.RawIOBase):
    """A request body of ``size`` zero bytes, made as it is read, counting what was read."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:  # The test client notes where the body starts.
        return self.read_bytes

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.read_bytes

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = b"\0" * n
        self.left -= n
        self.read_bytes += n
        return n


def peak_during(
    function: str, method: str, path: str, size: int, **headers: str
) -> tuple[int, int, int]:
    """(status, peak bytes allocated, body bytes read) for one request with a ``size`` body."""
    app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target=function, source=str(ROOT / "main.py"), signature_type="http"
    )
    client = app.test_client()
    client.open("/api/session", method="GET")  # warm up: imports, settings, first request
    body = Zeros(size)
    tracemalloc.start()
    try:
        response = client.open(
            path,
            method=method,
            input_stream=body,
            environ_overrides={"CONTENT_LENGTH": str(size)},
            headers=headers,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response.status_code, peak, body.read_bytes


@pytest.mark.parametrize(
    ("function", "method", "path", "headers", "status"),
    [
        ("session", "POST", "/api/session", {"Content-Type": "application/json"}, 403),
        (
            "session",
            "POST",
            "/api/session",
            {"Content-Type": "application/json", "Origin": "https://app.example.com"},
            413,
        ),
        (
            "publish_init",
            "PUT",
            "/api/publish/x1/chunks/0",
            {"Origin": "https://app.example.com"},
            401,
        ),
        (
            "publish_status",
            "POST",
            "/api/webhooks/tiktok",
            {"Content-Type": "application/json"},
            413,
        ),
    ],
)
@pytest.mark.parametrize("size", [96 * MIB, 20 * MIB])
def test_a_refused_body_costs_a_bounded_amount_of_memory(
    app_env: dict[str, str],
    function: str,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    size: int,
) -> None:
    got, peak, read = peak_during(function, method, path, size, **headers)
    print(
        f"{method} {path} {size // MIB} MiB -> {got}: "
        f"peak {peak / 1024:.0f} KiB, read {read // MIB} MiB"
    )
    assert got == status
    assert peak < 1 * MIB  # Not the body: at most a piece of it (64 KiB) and the request's objects.
    # Up to Cloud Functions' 32 MiB limit the rest is drained (so the client sees the answer);
    # past it nothing more is read and the connection closes.
    assert read <= bodies.DRAIN_LIMIT + bodies.PIECE


OPEN_FILES: list[io.BufferedReader] = []


@pytest.fixture(autouse=True)
def _close_files() -> Iterator[None]:
    yield
    while OPEN_FILES:
        OPEN_FILES.pop().close()


def request_over(server: socket.socket, length: int) -> flask.Request:
    rfile = server.makefile("rb")
    OPEN_FILES.append(rfile)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/x",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": rfile,
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": "application/json",
        "werkzeug.socket": server,
    }
    return flask.Request(environ)


def test_a_trickling_body_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "BODY_DEADLINE_SECONDS", 0.5)
    server, client = socket.socketpair()
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            try:
                client.sendall(b" ")
            except OSError:
                return
            time.sleep(0.05)

    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        started = time.monotonic()
        with pytest.raises(errors.RequestTimeout, match=r"did not arrive within 0\.5 seconds"):
            bodies.read_body(request_over(server, 1000), 64 * 1024)
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        sender.join()
        server.close()
        client.close()


def test_a_body_that_arrives_in_time_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "BODY_DEADLINE_SECONDS", 5)
    server, client = socket.socketpair()
    try:
        client.sendall(b'{"a": 1}')
        assert bodies.read_body(request_over(server, 8), 64 * 1024) == b'{"a": 1}'
        time.sleep(0.1)
    finally:
        server.close()
        client.close()


def test_a_body_shorter_than_declared_is_a_clear_400(monkeypatch: pytest.MonkeyPatch) -> None:
    server, client = socket.socketpair()
    try:
        client.sendall(b'{"a"')
        client.shutdown(socket.SHUT_WR)
        with pytest.raises(errors.InvalidArgument, match="ended before"):
            bodies.read_body(request_over(server, 100), 64 * 1024)
    finally:
        server.close()
        client.close()
