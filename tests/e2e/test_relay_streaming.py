"""P9: media passes through in small pieces; the relay never holds a chunk, let alone the file.

The relay service runs in this process against the real fake TikTok, reading from a body whose
every read is recorded, so the test sees exactly how much of the chunk was ever asked for at once.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import IO, Any, cast

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from shared.publishing.publish import publish
from shared.publishing.relay import PIECE, relay_chunk
from tests.media_server import media_pieces, media_sha256
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser

pytestmark = pytest.mark.e2e

SIZE = 12_000_000


class RecordingBody(io.RawIOBase):
    """A request body that serves the chunk's bytes and records the size of every read."""

    def __init__(self, name: str, first: int, last: int) -> None:
        self._pieces = media_pieces(name, first, last, piece=64 * 1024)
        self._pending = b""
        self.reads: list[int] = []

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        while size > 0 and len(self._pending) < size:
            piece = next(self._pieces, b"")
            if not piece:
                break
            self._pending += piece
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


def test_the_relay_reads_and_forwards_small_pieces_only(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok
) -> None:
    creator = fake_tiktok.create_user(display_name="C", username="c", avatar_url="x")
    browser: httpx.Client = new_browser(devserver, auth_emulator, "ann@example.com")
    connect_account(browser, fake_tiktok, creator["open_id"])
    uid = browser.get("/api/session").json()["user"]["uid"]
    runtime.reset()
    publisher = runtime.publisher()
    body: dict[str, Any] = {
        "open_id": creator["open_id"],
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": SIZE},
        "post": {"privacy_level": "SELF_ONLY"},
        "duration_sec": 5,
    }
    _, post = publish(publisher, uid=uid, body=body, idempotency_key=None, now=datetime.now(UTC))
    plan = post["upload"]
    assert plan["total_chunks"] == 2  # 10 MB chunk limit in the test stack.

    for index in range(plan["total_chunks"]):
        first = index * plan["chunk_size"]
        last = SIZE - 1 if index == plan["total_chunks"] - 1 else first + plan["chunk_size"] - 1
        recorder = RecordingBody("stream.mp4", first, last)
        progress = relay_chunk(
            publisher,
            uid=uid,
            post_id=post["id"],
            index=index,
            body=cast("IO[bytes]", recorder),  # a binary stream; relay_chunk only reads it
            content_length=last - first + 1,
            now=datetime.now(UTC),
        )
        assert max(recorder.reads) <= PIECE
        assert len(recorder.reads) >= (last - first + 1) // PIECE
    assert progress["complete"] is True
    at_tiktok = fake_tiktok.control("GET", f"publishes/{post['publish_id']}")
    assert at_tiktok["sha256"] == media_sha256(SIZE, "stream.mp4")
