"""The staging bucket through the real ``google-cloud-storage`` client.

Locally the client talks to fake-gcs-server: the library itself honours
``STORAGE_EMULATOR_HOST`` (its requests go there, unauthenticated); deployed it uses the
function's service account. Uploads never pass through a function: :meth:`Bucket.upload_session`
opens a resumable upload session for one object and the browser sends the bytes to it
(docs/media.md says why a session URI and not a V4 signed URL).
"""

from __future__ import annotations

import contextlib
import io
import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud.storage import Client as StorageClient

READ_CHUNK = 1024 * 1024  # The piece handed to the reader.
QUEUE_PIECES = 4  # Pieces waiting for a slow reader: the buffer is QUEUE_PIECES x READ_CHUNK.

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None
    generation: int


def make_storage_client(project_id: str, emulator_host: str | None) -> StorageClient:
    from google.cloud import storage

    if emulator_host:
        from google.auth.credentials import AnonymousCredentials

        # The library reads STORAGE_EMULATOR_HOST for its endpoint; say it explicitly as well,
        # so a client built from settings never reaches the real service by accident.
        return storage.Client(
            project=project_id,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": emulator_host},
        )
    return storage.Client(project=project_id)


class Bucket:
    """The staging bucket: upload sessions, metadata, ranged streaming reads, deletion."""

    def __init__(self, client: StorageClient, name: str) -> None:
        self.client = client
        self.name = name
        self._bucket = client.bucket(name)

    def upload_session(self, object_name: str, *, content_type: str, size: int, origin: str) -> str:
        """A resumable upload session URI for exactly this object, type and size.

        ``if_generation_match=0``: the session can create the object, never replace one.
        ``origin``: Cloud Storage answers the browser's requests to the URI with CORS for it.
        """
        blob = self._bucket.blob(object_name)
        url: str = blob.create_resumable_upload_session(
            content_type=content_type, size=size, origin=origin, if_generation_match=0
        )
        return url

    def info(self, object_name: str) -> ObjectInfo | None:
        """The object's real size, stored type and generation; None if it does not exist."""
        blob = self._bucket.get_blob(object_name)
        if blob is None:
            return None
        return ObjectInfo(
            size=int(blob.size or 0),
            content_type=blob.content_type,
            generation=int(blob.generation),
        )

    def read_head(self, object_name: str, generation: int, length: int) -> bytes:
        """The object's first ``length`` bytes (fewer if it is shorter)."""
        blob = self._bucket.blob(object_name, generation=generation)
        data: bytes = blob.download_as_bytes(start=0, end=length - 1, raw_download=True)
        return data

    def stream(
        self, object_name: str, generation: int, start: int, end: int, chunk: int = READ_CHUNK
    ) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of one generation, as one streamed download.

        The client library writes the download into a file object; here that object hands each
        piece to the reader through a queue of at most :data:`QUEUE_PIECES` pieces, so memory holds
        a few pieces whatever the object's size, and a slow reader slows the download (the
        writer waits). A reader that stops early (the client went away) ends the download.
        """
        pieces: queue.Queue[bytes | BaseException | None] = queue.Queue(QUEUE_PIECES)
        stop = threading.Event()
        blob = self._bucket.blob(object_name, generation=generation)

        def download() -> None:
            try:
                writer = _QueueWriter(pieces, stop, chunk)
                blob.download_to_file(writer, start=start, end=end, raw_download=True)
                writer.flush_rest()
                pieces.put(None)
            except _Stopped:
                pass
            except BaseException as exc:  # Reported to the reader, which ends the response.
                pieces.put(exc)

        worker = threading.Thread(target=download, name="media-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = pieces.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    log.warning("staged media download failed: %s", type(item).__name__)
                    return  # The reader sees a short body, never another object's bytes.
                yield item
        finally:
            stop.set()
            while worker.is_alive():  # Unblock a writer waiting on a full queue.
                with contextlib.suppress(queue.Empty):
                    pieces.get_nowait()
                worker.join(0.05)

    def replace(self, object_name: str, data: bytes, *, content_type: str, generation: int) -> int:
        """Write ``data`` over exactly that generation of the object; returns the new generation.

        ``if_generation_match``: if the object changed since it was checked, nothing is written
        (Cloud Storage answers 412) and the error reaches the caller.
        """
        blob = self._bucket.blob(object_name)
        blob.upload_from_string(data, content_type=content_type, if_generation_match=generation)
        return int(blob.generation)

    def delete(self, object_name: str) -> bool:
        """Delete the object; False if it was already gone."""
        from google.api_core import exceptions as gexc

        try:
            self._bucket.blob(object_name).delete()
        except gexc.NotFound:
            return False
        return True

    def ensure_bucket(self) -> None:
        """Create the bucket if missing (the local stack; deploy creates it with its policies)."""
        from google.api_core import exceptions as gexc

        with contextlib.suppress(gexc.Conflict):
            self.client.create_bucket(self.name)


class _Stopped(Exception):
    """The reader went away: the download ends."""


class _QueueWriter(io.RawIOBase):
    """A write-only file object feeding pieces of at most ``piece`` bytes into a bounded queue."""

    def __init__(
        self, pieces: queue.Queue[bytes | BaseException | None], stop: threading.Event, piece: int
    ) -> None:
        super().__init__()
        self._pieces = pieces
        self._stop = stop
        self._piece = piece
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        """Gather small writes into pieces of ``piece`` bytes (fewer hand-offs between threads)."""
        self._buffer += data
        while len(self._buffer) >= self._piece:
            self._put(bytes(self._buffer[: self._piece]))
            del self._buffer[: self._piece]
        return len(data)

    def flush_rest(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()

    def _put(self, piece: bytes) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped
            try:
                self._pieces.put(piece, timeout=0.5)
                return
            except queue.Full:
                continue
