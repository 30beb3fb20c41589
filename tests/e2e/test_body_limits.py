"""Bodies cannot make an instance hold more than a bounded amount, or a thread past a deadline.

Over real HTTP to the functions dev server (functions-framework apps in a werkzeug server), whose
peak resident memory is read from ``/proc`` before and after. What the functions themselves
allocate per refused body (well under 1 MiB) is measured exactly, in-process, by
``tests/unit/test_bodies.py``.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from emulator.stack import Stack
from shared.web.bodies import BODY_DEADLINE_SECONDS

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
HUGE = 96 * MIB


def peak_rss(stack: Stack) -> int:
    """The dev server's peak resident set size so far (VmHWM), in bytes."""
    status = Path(f"/proc/{stack.children['functions'].pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def zeros(total: int, piece: int = MIB) -> Iterator[bytes]:
    block = b"\0" * piece
    for _ in range(total // piece):
        yield block


def send_huge(stack: Stack, method: str, path: str, headers: dict[str, str]) -> int | None:
    """Send a 96 MiB body; the status if the answer arrived, None if the server hung up first."""
    try:
        response = httpx.request(
            method,
            stack.functions_url + path,
            content=zeros(HUGE),
            headers={"Content-Length": str(HUGE), **headers},
            timeout=180,
        )
    except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
        return None
    return response.status_code


def test_huge_bodies_that_are_refused_leave_memory_flat(
    api: httpx.Client, devserver: Stack
) -> None:
    json_type = {"Content-Type": "application/json"}
    origin = {"Origin": devserver.functions_url}
    cases = [
        ("POST", "/api/session", json_type),  # no Origin: 403 before anything is read
        ("POST", "/api/session", {**json_type, **origin}),  # 413
        ("PUT", "/api/publish/x1/chunks/0", origin),  # 401: the relay streams only when signed in
        ("POST", "/api/webhooks/tiktok", json_type),  # not session-authenticated: signature
    ]
    for case in cases:  # warm up: the first request of each function, one-time costs
        send_huge(devserver, *case)
    before = peak_rss(devserver)
    with ThreadPoolExecutor(len(cases) * 2) as pool:  # all at once: the peak adds up
        answers = list(pool.map(lambda case: send_huge(devserver, *case), cases * 2))
    growth = peak_rss(devserver) - before
    print(
        f"\ndev server peak RSS growth over {len(answers)} concurrent refused 96 MiB bodies: "
        f"{growth / MIB:.1f} MiB; answers {answers}"
    )
    assert set(answers) <= {401, 403, 413, None}
    # The dev server's werkzeug discards what is left of a body after each answer in reads of
    # 10 MB (its own, local-only cost; gunicorn, which serves deployed functions, drains at most
    # 64 KiB in 4 KiB reads). Before the functions bounded bodies, each refused 96 MiB body cost
    # more than its own size again (about 127 MiB each, 8 at once).
    assert growth / len(answers) < 24 * MIB


def test_a_body_that_trickles_is_cut_off_at_the_deadline(
    api: httpx.Client, devserver: Stack
) -> None:
    parts = urlsplit(devserver.functions_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        conn.sendall(
            b"POST /api/session HTTP/1.1\r\n"
            + f"Host: {parts.netloc}\r\nOrigin: {devserver.functions_url}\r\n".encode()
            + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id_token": '
        )
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            conn.sendall(b" ")  # one byte now and then, never the whole body
            conn.settimeout(1.0)
            with contextlib.suppress(TimeoutError):
                answer += conn.recv(65536)
            assert time.monotonic() - started < BODY_DEADLINE_SECONDS + 10, "still reading"
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408") or answer.startswith(b"HTTP/1.0 408"), answer[:200]
    assert b"application/json" in answer
    assert BODY_DEADLINE_SECONDS - 1 <= elapsed <= BODY_DEADLINE_SECONDS + 5
