"""One daily analytics snapshot over N seeded accounts of 100 videos each, against the floor
TikTok's latency sets.

Starts the Firestore emulator, the fake KMS and the fake TikTok as real processes on free ports;
for each N seeds N connected accounts (tokens valid, so no refresh) with 100 public videos each,
and sets the fake's user info and video list to 100 ms latency. The run itself is a fresh child
process (``--cycle``), so its peak RSS is the run's alone: ``run_scheduled`` with
``local_limit=N`` (no fan-out: one instance takes the whole run) at the default concurrency,
``ANALYTICS_MAX_VIDEOS`` 100. It prints TikTok calls per account (the minimum is 1 user info + 5
video-list pages of 20 = 6), wall time beside the floor N x 6 x 0.1 s / concurrency, the same run
with TikTok answering at once (what Firestore and this code allow on this machine), the child's
peak RSS, and Firestore writes per account (counted at the Firestore client's commit).

Run: ``.venv/bin/python bench/analytics.py`` (sizes: ``--sizes 500 2000``; ``--no-instant``
skips the 0 ms run).
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

from emulator.seed import fake_grants, seed_accounts
from emulator.stack import Ports, Stack
from shared import runtime
from shared.analytics.scheduler import CONCURRENCY, run_scheduled
from shared.analytics.snapshot import calls_needed
from tests.support import wipe_firestore

ROOT = Path(__file__).resolve().parent.parent

LATENCY_MS = 100
VIDEOS = 100
ENDPOINTS = ("user_info", "video_list", "video_query")


class Nowhere:
    """The run never fans out here (local_limit=N); publishing would be a bug."""

    def publish(self, topic: str, data: bytes) -> str:
        raise AssertionError("the benchmark run should not fan out")


def count_writes(db: Any) -> list[int]:
    """Count every document write the client commits (batches and transactions included)."""
    api = db._firestore_api
    commit = api.commit
    writes = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        request = kwargs.get("request") or (args[0] if args else {})
        found = request.get("writes") if isinstance(request, dict) else request.writes
        writes[0] += len(found or ())
        return commit(*args, **kwargs)

    api.commit = counting
    return writes


def cycle(count: int) -> None:
    """In the child: one daily run over every account; print its figures as JSON."""
    snapshotter = runtime.snapshotter()
    writes = count_writes(runtime.firestore_client())
    started = time.perf_counter()
    summary = run_scheduled(snapshotter, Nowhere(), now=datetime.now(UTC), local_limit=count)
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "wall": wall,
        "taken": summary.taken,
        "failed": dict(summary.failed),
        "skipped": dict(summary.skipped),
        "rss_mb": rss_mb,
        "writes": writes[0],
    }
    print(json.dumps(figures), flush=True)


def run_cycle(stack: Stack, count: int, latency_ms: int) -> tuple[dict[str, Any], float, int]:
    """Seed ``count`` accounts and run one day in a child; its figures, seed time, TikTok calls."""
    wipe_firestore(stack)
    tiktok = httpx.Client(base_url=stack.tiktok_url, timeout=120)
    tiktok.post("/_control/reset").raise_for_status()
    seed_start = time.perf_counter()
    grants = fake_grants(stack.tiktok_url, count)
    for grant in grants:
        tiktok.post(
            f"/_control/users/{grant['open_id']}/videos", json={"count": VIDEOS}
        ).raise_for_status()
    seed_accounts(
        runtime.firestore_client(),
        runtime.vault(),
        grants,
        now=datetime.now(UTC),
        access_expires_in=timedelta(hours=12),
    )
    seed_time = time.perf_counter() - seed_start
    latency = dict.fromkeys(ENDPOINTS, latency_ms)
    tiktok.post("/_control/config", json={"latency_ms": latency}).raise_for_status()
    child = subprocess.run(
        [sys.executable, __file__, "--cycle", str(count)],
        env={**os.environ, **stack.env(), "ANALYTICS_MAX_VIDEOS": str(VIDEOS)},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    counts = tiktok.get("/_control/calls").json()["counts"]
    tiktok.close()
    return figures, seed_time, sum(counts.get(e, 0) for e in ENDPOINTS)


def measure(stack: Stack, count: int, instant: bool) -> str:
    figures, seed_time, calls = run_cycle(stack, count, LATENCY_MS)
    per_account = calls_needed(VIDEOS)
    floor = count * per_account * LATENCY_MS / 1000 / CONCURRENCY
    line = (
        f"N={count:>5}  seed {seed_time:6.1f} s  taken {figures['taken']}  "
        f"TikTok calls/account {calls / count:.2f} (minimum {per_account})  "
        f"wall {figures['wall']:6.1f} s  floor {floor:5.1f} s ({figures['wall'] / floor:.2f}x)  "
        f"peak RSS {figures['rss_mb']:.0f} MB  "
        f"Firestore writes/account {figures['writes'] / count:.2f}"
    )
    if figures["failed"]:
        line += f"  failed {figures['failed']}"
    if instant:
        zero, _, _ = run_cycle(stack, count, 0)
        line += f"  same run at 0 ms TikTok {zero['wall']:6.1f} s"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--no-instant", action="store_true", help="skip the 0 ms TikTok run")
    parser.add_argument("--cycle", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cycle:
        cycle(args.cycle)
        return 0
    stack = Stack(ports=Ports.free(), workdir=Path(tempfile.mkdtemp(prefix="bench-analytics-")))
    try:
        stack.start(["firestore", "kms", "tiktok"])
        os.environ.update(stack.env())
        runtime.reset()
        per_account = calls_needed(VIDEOS)
        print(
            f"{VIDEOS} videos/account, TikTok latency {LATENCY_MS} ms on user info and video "
            f"list, concurrency {CONCURRENCY}, floor = N x {per_account} calls x "
            f"{LATENCY_MS / 1000} s / {CONCURRENCY}",
            flush=True,
        )
        for count in args.sizes:
            print(measure(stack, count, not args.no_instant), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
