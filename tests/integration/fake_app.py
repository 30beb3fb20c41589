"""The fake TikTok as its own process for the integration tests of the client against it.

Each test module that uses :func:`running_fake` gets a fresh server with a known app; when it
stops, its log is checked for the client secret, tokens and upload tokens.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from emulator.procs import Child, free_port, http_probe
from shared.tiktok.client import TikTokClient

ROOT = Path(__file__).resolve().parents[2]
CLIENT_KEY = "awfakeclientkey"
CLIENT_SECRET = "fake-client-secret-0123456789"
REDIRECT = "https://app.example.com/api/tiktok/callback"


@contextmanager
def running_fake(log_dir: Path) -> Iterator[str]:
    """The fake on a free loopback port; yields its base URL, stops it by PID afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "TIKTOK_CLIENT_KEY": CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_REDIRECT_URI": REDIRECT,
        "PYTHONUNBUFFERED": "1",
    }
    child = Child(
        "tiktok",
        [sys.executable, "-m", "emulator.tiktok", "--host", "127.0.0.1", "--port", str(port)],
        log_dir=log_dir,
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        child.wait_ready(http_probe(f"{url}/_control/health"), timeout=20)
        yield url
    finally:
        child.stop()
        log_text = child.log_path.read_text()
        for secret in (CLIENT_SECRET, "act.", "rft.", "upload_token"):
            assert secret not in log_text, f"the fake logged {secret!r}"


def client_for(
    http: httpx.Client, fake_url: str, sleep: Callable[[float], None] = lambda _: None
) -> TikTokClient:
    """The real TikTok client, configured for the app :func:`running_fake` knows."""
    return TikTokClient(
        http,
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT,
        auth_url=f"{fake_url}/v2/auth/authorize/",
        sleep=sleep,
    )
