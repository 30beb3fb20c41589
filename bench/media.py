"""``/media/{token}`` serving a large staged video, beside reading the bucket directly.

    .venv/bin/python bench/media.py [--mb 500] [--rounds 5] [--no-paced]

Stages one object of ``--mb`` MB in fake-gcs-server (uploaded through a resumable session, as
the browser does) and records it as used by a post. Then reads it through the dev server's
``/media/{token}`` and straight from the bucket, ``--rounds`` times each as fast as loopback
allows (alternating which goes first, since the machine is shared and its load drifts), and once
each paced at TikTok's documented media ingress of about 100 Mbps.

"Directly" is the fair baseline for the hop the function adds: the same reader (this process,
``httpx`` streaming in 64 KiB pieces, the same pacing), the same fake-gcs-server process and
object, one plain ``GET`` of the whole object at the bucket's download URL, as a reader would
make if it could reach the bucket itself. ``/media/`` is that reader's ``GET`` to the dev server,
whose function makes one streamed ranged ``GET`` of the same object on the same fake-gcs-server.

Prints each run's throughput, the median of each path and their ratio; the CPU seconds each
process spent during the run (the functions process, fake-gcs-server, the reader), which say
where the time goes whatever the machine's load; and the functions process's peak RSS growth
while serving (its VmHWM, reset before each run, against its RSS before), the largest of the
runs. Target (media staging issue): RSS growth under 32 MB and at least 80% of the direct
throughput.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from emulator.stack import Ports, Stack
from shared.config import Secret, SessionKey
from shared.media.storage import open_bucket
from shared.media.tokens import MediaGrant, MediaTokens

PIECE = 1024 * 1024
SERVED, DIRECT = "/media/", "direct"
UID = "bench-user"


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process (all its threads) so far, from proc(5) stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh at the current RSS (proc(5): clear_refs "5"), so each run's peak is
    its own, not the process's lifetime peak."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def pieces(size: int) -> Iterator[bytes]:
    block = hashlib.sha256(b"bench").digest() * (PIECE // 32)
    sent = 0
    while sent < size:
        part = block[: min(PIECE, size - sent)]
        sent += len(part)
        yield part


def read(url: str, size: int, mbps: float) -> float:
    """GET ``url`` to the end, paced at ``mbps`` (0: as fast as it comes); returns seconds."""
    started = time.perf_counter()
    got = 0
    with httpx.Client(timeout=120) as client, client.stream("GET", url) as response:
        if response.status_code != 200:
            raise SystemExit(f"GET {url[:60]}...: {response.status_code}")
        for chunk in response.iter_bytes(64 * 1024):
            got += len(chunk)
            if mbps:
                due = started + got * 8 / (mbps * 1e6)
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
    if got != size:
        raise SystemExit(f"read {got} bytes of {size}")
    return time.perf_counter() - started


def stage(stack: Stack, size: int) -> tuple[str, str]:
    """The object in the bucket, and the slot and post that make a token for it valid."""
    from google.cloud import firestore

    bucket = open_bucket(stack.project_id, stack.gcs_url, stack.media_bucket)
    name = "staged/bench-object"
    url = bucket.upload_session(
        name, content_type="video/mp4", size=size, origin=stack.functions_url
    )
    httpx.put(url, content=pieces(size), headers={"Content-Length": str(size)}, timeout=600)
    info = bucket.info(name)
    if info is None or info.size != size:
        raise SystemExit(f"staging failed: {info}")
    db = firestore.Client(project=stack.project_id)
    now = datetime.now(UTC)
    db.document(f"users/{UID}/posts/bench-post").set(
        {"uid": UID, "status": "PROCESSING_DOWNLOAD", "media_ids": ["bench-media"]}
    )
    db.document(f"users/{UID}/media/bench-media").set(
        {
            "id": "bench-media",
            "uid": UID,
            "object": name,
            "generation": info.generation,
            "size": size,
            "content_type": "video/mp4",
            "type": "video",
            "state": "used",
            "post_id": "bench-post",
            "expire_at": now + timedelta(days=1),
        }
    )
    tokens = MediaTokens([SessionKey("local", Secret(stack.media_url_secret))])
    token = tokens.issue(MediaGrant(UID, "bench-post", "bench-media", int(time.time()) + 3600))
    direct = (
        f"{stack.gcs_url}/download/storage/v1/b/{stack.media_bucket}/o/"
        f"{name.replace('/', '%2F')}?alt=media"
    )
    return f"{stack.functions_url}/media/{token}", direct


@dataclass
class Run:
    path: str
    seconds: float
    cpu: dict[str, float]
    rss_growth_kb: int = 0


def measure(path: str, url: str, size: int, mbps: float, pids: dict[str, int], fn_pid: int) -> Run:
    """One read of ``url``, with each process's CPU seconds during it and, for ``/media/``, the
    functions process's peak RSS growth."""
    if path == SERVED:
        reset_peak(fn_pid)
    before_rss = proc_kb(fn_pid, "VmRSS")
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    seconds = read(url, size, mbps)
    run = Run(path, seconds, {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()})
    if path == SERVED:
        run.rss_growth_kb = proc_kb(fn_pid, "VmHWM") - before_rss
    return run


def report(label: str, runs: list[Run], mb: float) -> None:
    print(f"== {label}: {mb:.0f} MB, load average {os.getloadavg()[0]:.1f}")
    for run in runs:
        cpu = "  ".join(f"{name} {spent:5.2f}" for name, spent in run.cpu.items())
        print(f"{run.path:<8} {run.seconds:6.2f} s {mb / run.seconds:7.1f} MB/s   CPU s: {cpu}")
    medians = {
        path: statistics.median(r.seconds for r in runs if r.path == path)
        for path in (SERVED, DIRECT)
    }
    print(f"/media/ through the dev server: {mb / medians[SERVED]:7.1f} MB/s (median)")
    print(f"the bucket directly:            {mb / medians[DIRECT]:7.1f} MB/s (median)")
    print(
        f"/media/ / direct:               {medians[DIRECT] / medians[SERVED] * 100:5.1f} %"
        "   (target >= 80 %)"
    )
    growth = max(r.rss_growth_kb for r in runs if r.path == SERVED)
    print(f"functions process RSS: peak growth {growth / 1024:.1f} MB (target < 32 MB)\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5, help="loopback reads of each path")
    parser.add_argument("--no-paced", action="store_true", help="skip the ~100 Mbps reads")
    args = parser.parse_args()
    size = args.mb * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp))
        stack.start(["firestore", "gcs", "functions"])
        os.environ.update(stack.env())
        try:
            urls = dict(zip((SERVED, DIRECT), stage(stack, size), strict=True))
            fn_pid = stack.children["functions"].pid
            pids = {"functions": fn_pid, "gcs": stack.children["gcs"].pid, "reader": os.getpid()}
            served = urls[SERVED]
            httpx.get(served, headers={"Range": "bytes=0-1023"}, timeout=60).raise_for_status()
            runs = []
            for i in range(args.rounds):
                for path in (SERVED, DIRECT) if i % 2 == 0 else (DIRECT, SERVED):
                    runs.append(measure(path, urls[path], size, 0.0, pids, fn_pid))
            report("loopback, as fast as it comes", runs, size / 1e6)
            if not args.no_paced:
                paced = [measure(p, urls[p], size, 100.0, pids, fn_pid) for p in (SERVED, DIRECT)]
                report("~100 Mbps", paced, size / 1e6)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
