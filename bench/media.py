"""``/media/{token}`` serving a large staged video, beside reading the bucket directly.

    .venv/bin/python bench/media.py [--mb 500]

Stages one object of ``--mb`` MB in fake-gcs-server (uploaded through a resumable session, as
the browser does), records it as used by a post, and reads it twice through the dev server's
``/media/{token}`` and twice straight from the bucket's download URL: once as fast as loopback
allows, once paced at TikTok's documented media ingress of about 100 Mbps. Prints throughput of
both paths and the functions process's peak RSS growth while serving (its VmHWM, reset before
each run, against its RSS before). Target (media staging issue): RSS growth under 32 MB and at
least 80% of the direct throughput.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.stack import Ports, Stack  # noqa: E402
from shared.config import Secret, SessionKey  # noqa: E402
from shared.media.storage import Bucket, make_storage_client  # noqa: E402
from shared.media.tokens import MediaGrant, MediaTokens  # noqa: E402

PIECE = 1024 * 1024
UID = "bench-user"


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


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

    bucket = Bucket(make_storage_client(stack.project_id, stack.gcs_url), stack.media_bucket)
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    args = parser.parse_args()
    size = args.mb * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp))
        stack.start(["firestore", "gcs", "functions"])
        os.environ.update(stack.env())
        try:
            served, direct = stage(stack, size)
            pid = stack.children["functions"].pid
            httpx.get(served, headers={"Range": "bytes=0-1023"}, timeout=60).raise_for_status()
            for label, mbps in (("loopback, as fast as it comes", 0.0), ("~100 Mbps", 100.0)):
                reset_peak(pid)
                before = proc_kb(pid, "VmRSS")
                served_s = read(served, size, mbps)
                peak = proc_kb(pid, "VmHWM")
                direct_s = read(direct, size, mbps)
                mb = size / 1e6
                print(f"== {label}: {mb:.0f} MB")
                print(
                    f"/media/ through the dev server: {served_s:6.2f} s {mb / served_s:7.1f} MB/s"
                )
                print(
                    f"the bucket directly:            {direct_s:6.2f} s {mb / direct_s:7.1f} MB/s"
                )
                print(
                    f"/media/ / direct:               {direct_s / served_s * 100:5.1f} %"
                    "   (target >= 80 %)"
                )
                print(
                    f"functions process RSS: {before / 1024:.1f} MB before, peak growth "
                    f"{(peak - before) / 1024:.1f} MB (target < 32 MB)\n"
                )
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
