"""Request bodies: what refused bodies cost a serving process, in peak resident memory.

    .venv/bin/python bench/bodies.py [--concurrency 8] [--mib 96]

Serves the ``session`` function with functions-framework's app in a threaded werkzeug server (a
fresh process), warms it up, then sends ``concurrency`` requests at once whose bodies the
function refuses without reading (403: no Origin), first with a tiny body and then with a
``--mib`` body, and prints the growth of the server's peak RSS (VmHWM) for each round. The
difference between the rounds is what the bodies themselves cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024

ENV = {
    "GOOGLE_CLOUD_PROJECT": "demo-bench",
    "APP_ORIGIN": "https://app.example.com",
    "SESSION_SECRETS": "k1:" + "s" * 48,
    "TIKTOK_CLIENT_KEY": "bench-client",
    "TIKTOK_CLIENT_SECRET": "bench-secret-value",
    "TIKTOK_REDIRECT_URI": "https://app.example.com/api/tiktok/callback",
    "KMS_KEY_NAME": "projects/demo-bench/locations/global/keyRings/r/cryptoKeys/k",
}

SERVER = """
import sys
import functions_framework
from werkzeug.serving import make_server
app = functions_framework.create_app(target="session", source={source!r}, signature_type="http")
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def zeros(total: int) -> Iterator[bytes]:
    block = b"\0" * MIB
    for _ in range(total // MIB):
        yield block


def send(url: str, size: int) -> str:
    try:
        response = httpx.post(
            url + "/api/session",
            content=zeros(size) if size >= MIB else b"{}",
            headers={"Content-Type": "application/json", "Content-Length": str(max(size, 2))},
            timeout=300,
        )
    except httpx.TransportError as exc:
        return type(exc).__name__
    return str(response.status_code)


def round_of(url: str, pid: int, size: int, concurrency: int) -> tuple[int, list[str], float]:
    before = peak_rss(pid)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(lambda _: send(url, size), range(concurrency)))
    return peak_rss(pid) - before, answers, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--mib", type=int, default=96)
    args = parser.parse_args()

    from emulator.procs import free_port

    port = free_port()
    code = SERVER.format(source=str(ROOT / "main.py"))
    env = {**os.environ, **ENV}
    server = subprocess.Popen(
        [sys.executable, "-c", code, str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        for _ in range(2):  # warm up: imports, first requests, the server's threads
            round_of(url, server.pid, 2, args.concurrency)
        for label, size in (("tiny bodies", 2), (f"{args.mib} MiB bodies", args.mib * MIB)):
            growth, answers, seconds = round_of(url, server.pid, size, args.concurrency)
            print(
                f"{args.concurrency} concurrent refused requests with {label:<14}: peak RSS "
                f"+{growth / MIB:6.1f} MiB ({growth / MIB / args.concurrency:5.1f} MiB each), "
                f"{seconds:5.2f} s, answers {sorted(set(answers))}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
