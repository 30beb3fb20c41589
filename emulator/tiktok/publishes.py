"""The publishes the fake accepted: upload and download progress, status, and the change seam.

A publish moves as on TikTok (docs/tiktok-api.md §3.6,
https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status):
``PROCESSING_UPLOAD`` (FILE_UPLOAD) or ``PROCESSING_DOWNLOAD`` (PULL_FROM_URL) until the media is in
and a processing delay has passed, then ``PUBLISH_COMPLETE`` for a direct post or
``SEND_TO_USER_INBOX`` for an inbox upload, or ``FAILED`` with a ``fail_reason``. Every status
change goes through :meth:`PublishBook.set_status`, which calls each listener: the seam where
webhooks (§5) will plug in. All fields are guarded by the world's lock.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PROCESSING_UPLOAD = "PROCESSING_UPLOAD"
PROCESSING_DOWNLOAD = "PROCESSING_DOWNLOAD"
SEND_TO_USER_INBOX = "SEND_TO_USER_INBOX"
PUBLISH_COMPLETE = "PUBLISH_COMPLETE"
FAILED = "FAILED"
FINAL = frozenset({SEND_TO_USER_INBOX, PUBLISH_COMPLETE, FAILED})

UPLOAD_URL_LIFETIME = 3600.0  # "valid 1 hour" (direct-post reference)


@dataclass
class Upload:
    """A FILE_UPLOAD task: the plan from init and what has arrived, as a count and a SHA-256."""

    upload_id: str
    upload_token: str
    expires_at: float
    video_size: int
    chunk_size: int
    total_chunk_count: int
    chunks_received: int = 0
    received_bytes: int = 0
    busy: bool = False  # a chunk is being received: chunks are sequential (§3.5)
    digest: Any = field(default_factory=hashlib.sha256)

    def chunk_range(self, index: int) -> tuple[int, int]:
        """Chunk ``index``'s inclusive byte range; the last one carries the remainder (§3.5)."""
        first = index * self.chunk_size
        last = (
            self.video_size - 1
            if index == self.total_chunk_count - 1
            else first + self.chunk_size - 1
        )
        return first, last

    @property
    def complete(self) -> bool:
        return self.chunks_received >= self.total_chunk_count


@dataclass
class Publish:
    """One accepted init: ``kind`` video|photo, ``mode`` DIRECT_POST|MEDIA_UPLOAD."""

    publish_id: str
    open_id: str
    kind: str
    mode: str
    source: str
    post_info: dict[str, Any]
    source_info: dict[str, Any]
    created_at: float
    status: str
    fail_reason: str = ""
    fail_detail: str = ""  # the fake's own explanation of a failure (control view and log only)
    post_ids: list[int] = field(default_factory=list)
    upload: Upload | None = None
    downloaded_bytes: int = 0
    downloads: list[dict[str, Any]] = field(default_factory=list)  # url, bytes, sha256
    ready_at: float | None = None  # when processing ends
    history: list[dict[str, Any]] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        """The control API's picture: what TikTok received, for tests to assert on."""
        upload = self.upload
        return {
            "publish_id": self.publish_id,
            "open_id": self.open_id,
            "kind": self.kind,
            "mode": self.mode,
            "source": self.source,
            "post_info": self.post_info,
            "source_info": self.source_info,
            "status": self.status,
            "fail_reason": self.fail_reason,
            "fail_detail": self.fail_detail,
            "post_ids": [str(i) for i in self.post_ids],
            "created_at": self.created_at,
            "received_bytes": upload.received_bytes if upload else 0,
            "chunks_received": upload.chunks_received if upload else 0,
            "total_chunk_count": upload.total_chunk_count if upload else 0,
            "downloaded_bytes": self.downloaded_bytes,
            "sha256": self.sha256(),
            "downloads": list(self.downloads),
            "history": list(self.history),
        }

    def sha256(self) -> str | None:
        """Of the bytes received so far (FILE_UPLOAD) or the one pulled video."""
        if self.upload is not None:
            return str(self.upload.digest.hexdigest())
        if self.kind == "video" and self.downloads:
            return str(self.downloads[0]["sha256"])
        return None


Listener = Callable[[Publish, str], None]  # (publish, previous status), called under the lock


class PublishBook:
    """Every publish of this world, by publish id and by upload id."""

    def __init__(self, lock: threading.RLock, clock: Callable[[], float]) -> None:
        self.lock = lock
        self.clock = clock
        self.by_id: dict[str, Publish] = {}
        self.by_upload: dict[str, Publish] = {}
        self.listeners: list[Listener] = []
        self._next = 7_000_000_000_000_000_000 + secrets.randbelow(10**15)

    def new_id(self, prefix: str) -> str:
        """Shaped like TikTok's: ``v_pub_file~v2-1.<n>``, ``p_pub_url~v2.<n>`` (§3.2-3.4)."""
        with self.lock:
            self._next += 1
            return f"{prefix}.{self._next}"

    def add(self, publish: Publish) -> None:
        with self.lock:
            self.by_id[publish.publish_id] = publish
            if publish.upload is not None:
                self.by_upload[publish.upload.upload_id] = publish
            publish.history.append({"status": publish.status, "at": publish.created_at})

    def set_status(
        self, publish: Publish, status: str, *, fail_reason: str = "", force: bool = False
    ) -> None:
        """The one place a status changes; listeners (webhooks, later) hear about it. A final
        status stays unless ``force`` (the control API's forced failure)."""
        with self.lock:
            if publish.status == status or (publish.status in FINAL and not force):
                return
            previous = publish.status
            publish.status = status
            publish.fail_reason = fail_reason
            publish.history.append(
                {"status": status, "at": self.clock(), "fail_reason": fail_reason}
            )
            if status in FINAL:
                publish.cancelled.set()
            for listener in list(self.listeners):
                listener(publish, previous)

    def start_processing(self, publish: Publish, seconds: float) -> None:
        """The media is in: the publish settles after ``seconds`` (on the fake clock, or by a
        timer in real time, whichever comes first)."""
        with self.lock:
            publish.ready_at = self.clock() + seconds
        timer = threading.Timer(seconds, self.settle)
        timer.daemon = True
        timer.start()

    def settle(self) -> None:
        """Finish every publish whose processing time has passed."""
        with self.lock:
            now = self.clock()
            for publish in self.by_id.values():
                if publish.status in FINAL or publish.ready_at is None or publish.ready_at > now:
                    continue
                if publish.mode != "DIRECT_POST":
                    self.set_status(publish, SEND_TO_USER_INBOX)
                    continue
                if publish.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE":
                    # Ids exceed 2**53, which is why clients must keep them as strings (§8).
                    publish.post_ids.append(2**53 + 1 + secrets.randbelow(2**62))
                self.set_status(publish, PUBLISH_COMPLETE)

    def fail(self, publish: Publish, reason: str, *, force: bool = False) -> None:
        self.set_status(publish, FAILED, fail_reason=reason, force=force)

    def count(self, open_id: str | None, since: float, predicate: Callable[[Publish], bool]) -> int:
        with self.lock:
            return sum(
                1
                for p in self.by_id.values()
                if (open_id is None or p.open_id == open_id)
                and p.created_at > since
                and predicate(p)
            )

    def close(self) -> None:
        """Stop background downloads (on reset)."""
        with self.lock:
            for publish in self.by_id.values():
                publish.cancelled.set()
