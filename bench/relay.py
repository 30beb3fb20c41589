"""The chunk relay under load: a video through the dev server to the fake TikTok, beside a direct
PUT of the same bytes to the fake in the same run.

    .venv/bin/python bench/relay.py [--mb 256] [--ingress-mb 64]

Twice: with the fake reading as fast as loopback allows (256 MB), and with the fake reading at
TikTok's documented media ingress of about 100 Mbps (64 MB). Prints the functions process's peak
RSS growth during the relay (from /proc VmHWM against its RSS before), the throughput of both
paths, and each process's CPU time. Target (publishing issue): RSS growth under 32 MB and at
least 80% of the direct throughput.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import httpx

from emulator.stack import Ports, Stack
from shared.publishing.chunks import plan_chunks
from shared.store.documents import UploadPlanDoc
from shared.tiktok.client import TikTokClient, make_http_client
from tests.media_server import media_pieces
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser


def proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def put_all(client: httpx.Client, url_for: object, plan: UploadPlanDoc, name: str) -> float:
    """PUT every chunk (streamed from a generator); returns seconds."""
    started = time.perf_counter()
    for index in range(plan["total_chunks"]):
        first = index * plan["chunk_size"]
        last = (
            plan["video_size"] - 1
            if index == plan["total_chunks"] - 1
            else first + plan["chunk_size"] - 1
        )
        url, headers = url_for(index, first, last)  # type: ignore[operator]
        response = client.put(
            url,
            content=media_pieces(name, first, last),
            headers={**headers, "Content-Length": str(last - first + 1)},
        )
        if response.status_code not in (200, 201, 206):
            raise SystemExit(f"chunk {index}: {response.status_code} {response.text[:200]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256, help="size of the unthrottled run")
    parser.add_argument(
        "--ingress-mb", type=int, default=64, help="size of the run at TikTok's ~100 Mbps ingress"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp))
        stack.start(["firestore", "auth", "kms", "tiktok", "functions"])
        try:
            print("== loopback, the fake reading as fast as it can")
            run(stack, args.mb * 1_000_000, ingress_mbps=0)
            print("\n== the fake reading at TikTok's ingress, ~100 Mbps (docs/tiktok-api.md §7)")
            run(stack, args.ingress_mb * 1_000_000, ingress_mbps=100)
        finally:
            stack.stop()
    return 0


def run(stack: Stack, size: int, *, ingress_mbps: float) -> None:
    fake = FakeTikTok(stack.tiktok_url)
    fake.reset()
    fake.control("POST", "config", json={"ingress_mbps": ingress_mbps})
    creator = fake.create_user(display_name="Bench", username="bench", avatar_url="x")
    browser = new_browser(stack, AuthEmulator(stack), "bench@example.com")
    connect_account(browser, fake, creator["open_id"])
    body = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": size},
        "post": {"privacy_level": "SELF_ONLY"},
        "duration_sec": 30,
    }
    pid = stack.children["functions"].pid

    # Warm the functions process (imports, clients) with a small upload first.
    warm = browser.post("/api/publish", json={**body, "media": {**body["media"], "size": 1000}})
    warm_post = warm.json()["post"]
    browser.put(
        f"/api/publish/{warm_post['id']}/chunks/0",
        content=b"x" * 1000,
        headers={"Content-Type": "application/octet-stream"},
    ).raise_for_status()

    post = browser.post("/api/publish", json=body).json()["post"]
    plan = post["upload"]
    fake_pid = stack.children["tiktok"].pid
    before = proc_kb(pid, "VmRSS")
    cpu0 = (own_cpu(), cpu_seconds(pid), cpu_seconds(fake_pid))
    relay_s = put_all(
        browser,
        lambda i, f, last: (
            f"/api/publish/{post['id']}/chunks/{i}",
            {"Content-Type": "application/octet-stream"},
        ),
        plan,
        "bench.mp4",
    )
    peak = proc_kb(pid, "VmHWM")
    cpu1 = (own_cpu(), cpu_seconds(pid), cpu_seconds(fake_pid))

    # The same bytes PUT straight to the fake's upload URL, with the same plan.
    code = fake.control("POST", "codes", json={"open_id": creator["open_id"]})["code"]
    client = TikTokClient(
        make_http_client(stack.tiktok_url),
        client_key=stack.tiktok_client_key,
        client_secret=stack.tiktok_client_secret,
        redirect_uri=stack.env()["TIKTOK_REDIRECT_URI"],
        auth_url=stack.env()["TIKTOK_AUTH_URL"],
    )
    token = client.exchange_code(code).access_token
    direct_plan = plan_chunks(size)
    init = client.init_video_direct(
        token,
        post_info={"privacy_level": "SELF_ONLY", "title": ""},
        source_info={
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": direct_plan.chunk_size,
            "total_chunk_count": direct_plan.total_chunks,
        },
    )
    with httpx.Client(timeout=120) as direct:
        direct_s = put_all(
            direct,
            lambda i, f, last: (
                init.upload_url,
                {"Content-Type": "video/mp4", "Content-Range": f"bytes {f}-{last}/{size}"},
            ),
            direct_plan.public(),
            "bench.mp4",
        )

    cpu2 = (own_cpu(), cpu_seconds(pid), cpu_seconds(fake_pid))
    relay_cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    direct_cpu = [b - a for a, b in zip(cpu1, cpu2, strict=True)]
    mb = size / 1e6
    growth = (peak - before) / 1024
    ratio = direct_s / relay_s
    print(f"video: {mb:.0f} MB in {plan['total_chunks']} chunks of {plan['chunk_size']:,} bytes")
    print(f"relay through the dev server: {relay_s:6.2f} s  {mb / relay_s:7.1f} MB/s")
    print(f"direct PUT to the fake:       {direct_s:6.2f} s  {mb / direct_s:7.1f} MB/s")
    print(f"relay throughput / direct:    {ratio * 100:5.1f} %   (target >= 80 %)")
    print(
        f"CPU seconds (sender, functions, fake) on {os.cpu_count()} cores: relay "
        f"{relay_cpu[0]:.2f} + {relay_cpu[1]:.2f} + {relay_cpu[2]:.2f} over {relay_s:.2f} s wall; "
        f"direct {direct_cpu[0]:.2f} + {direct_cpu[2]:.2f} over {direct_s:.2f} s wall"
    )
    print(
        f"functions process RSS: {before / 1024:.1f} MB before, peak growth {growth:.1f} MB "
        "(target < 32 MB)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
