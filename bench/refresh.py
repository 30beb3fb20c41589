"""One scheduled refresh cycle over N seeded accounts, against the floor TikTok's latency sets.

Starts the Firestore emulator, the fake KMS and the fake TikTok as real processes on free ports,
sets the fake's token endpoint to 100 ms latency, and for each N seeds N connected accounts whose
access tokens are due (batched writes, tokens encrypted through one vault: one KMS call). The
cycle itself runs in a fresh child process (``--cycle``), so its peak RSS is the cycle's alone:
``run_scheduled`` with ``local_limit=N`` (no fan-out: one instance takes the whole run), at the
default concurrency. It prints wall time beside the floor N x 0.1 s / concurrency, TikTok token
calls (must equal N), KMS calls and the child's peak RSS.

Run: ``.venv/bin/python bench/refresh.py`` (sizes: ``--sizes 1000 5000``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from emulator.kms.control import KmsControl
from emulator.seed import fake_grants, seed_accounts
from emulator.stack import Ports, Stack
from shared import runtime
from shared.tokens.scheduler import CONCURRENCY, run_scheduled
from tests.support import wipe_firestore

ROOT = Path(__file__).resolve().parent.parent


LATENCY_MS = 100


class Nowhere:
    """The run never fans out here (local_limit=N); publishing would be a bug."""

    def publish(self, topic: str, data: bytes) -> str:
        raise AssertionError("the benchmark cycle should not fan out")


def cycle(count: int) -> None:
    """In the child: one scheduled run over every due account; print its figures as JSON."""
    started = time.perf_counter()
    summary = run_scheduled(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        Nowhere(),
        now=datetime.now(UTC),
        local_limit=count,
    )
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"wall": wall, "refreshed": summary.refreshed, "due": summary.due, "rss_mb": rss_mb}
    print(json.dumps(figures), flush=True)


def measure(stack: Stack, count: int) -> str:
    figures, seed_time, token_calls, kms_calls = run_cycle(stack, count, LATENCY_MS)
    # The same cycle with TikTok answering at once: what the emulator, KMS and this code allow.
    instant, _, _, _ = run_cycle(stack, count, 0)
    floor = count * LATENCY_MS / 1000 / CONCURRENCY
    bound = max(floor, instant["wall"])
    which = "TikTok latency floor" if floor >= instant["wall"] else "emulator/store (0 ms TikTok)"
    return (
        f"N={count:>5}  seed {seed_time:5.1f} s  wall {figures['wall']:6.1f} s  "
        f"floor {floor:5.1f} s ({figures['wall'] / floor:.2f}x)  "
        f"same cycle at 0 ms TikTok {instant['wall']:5.1f} s  "
        f"-> bound by {which}: {figures['wall'] / bound:.2f}x  "
        f"refreshed {figures['refreshed']}  TikTok calls {token_calls} "
        f"({'= N' if token_calls == count else '!= N'})  KMS calls {kms_calls}  "
        f"peak RSS {figures['rss_mb']:.0f} MB"
    )


def run_cycle(stack: Stack, count: int, latency_ms: int) -> tuple[dict[str, Any], float, int, int]:
    """Seed ``count`` due accounts and run one cycle in a child; its figures and counters."""
    wipe_firestore(stack)
    tiktok = httpx.Client(base_url=stack.tiktok_url, timeout=120)
    tiktok.post("/_control/reset").raise_for_status()
    seed_start = time.perf_counter()
    grants = fake_grants(stack.tiktok_url, count)
    seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        grants,
        now=datetime.now(UTC),
        access_expires_in=timedelta(minutes=10),
    )
    seed_time = time.perf_counter() - seed_start
    tiktok.post("/_control/config", json={"latency_ms": {"token": latency_ms}}).raise_for_status()
    kms = KmsControl(stack.env()["KMS_EMULATOR_HOST"])
    kms.reset()
    calls_before = tiktok.get("/_control/calls").json()["counts"].get("token", 0)
    child = subprocess.run(
        [sys.executable, __file__, "--cycle", str(count)],
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    token_calls = tiktok.get("/_control/calls").json()["counts"].get("token", 0) - calls_before
    tiktok.close()
    return figures, seed_time, token_calls, kms.total_calls()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--cycle", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cycle:
        cycle(args.cycle)
        return 0
    stack = Stack(ports=Ports.free(), workdir=Path(tempfile.mkdtemp(prefix="bench-refresh-")))
    try:
        stack.start(["firestore", "kms", "tiktok"])
        os.environ.update(stack.env())
        runtime.reset()
        print(
            f"token latency {LATENCY_MS} ms, concurrency {CONCURRENCY}, "
            f"floor = N x {LATENCY_MS / 1000} s / {CONCURRENCY}",
            flush=True,
        )
        for count in args.sizes:
            print(measure(stack, count), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
