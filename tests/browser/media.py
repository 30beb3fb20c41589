"""The media the browser tests post: real files, served from a loopback server TikTok can pull."""

from __future__ import annotations

import functools
import hashlib
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def padded_video(path: Path, size: int) -> Path:
    """``clip.mp4`` grown to ``size`` bytes by a trailing MP4 ``free`` box (same duration)."""
    clip = (FIXTURES / "clip.mp4").read_bytes()
    filler = size - len(clip)
    assert filler >= 8, "size must leave room for the free box header"
    seed = hashlib.sha256(b"filler").digest()
    block = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(2048))
    with path.open("wb") as out:
        out.write(clip)
        out.write(filler.to_bytes(4, "big") + b"free")
        left = filler - 8
        while left:
            piece = block[: min(left, len(block))]
            out.write(piece)
            left -= len(piece)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for piece in iter(lambda: f.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class AssetServer:
    """``tests/browser/fixtures`` over HTTP on a free loopback port (avatars, covers, photos)."""

    def __init__(self) -> None:
        handler = functools.partial(_Quiet, directory=str(FIXTURES))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def __enter__(self) -> AssetServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
