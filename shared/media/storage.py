"""The staging bucket through the real ``google-cloud-storage`` client.

Locally the client talks to fake-gcs-server: the library itself honours
``STORAGE_EMULATOR_HOST`` (its requests go there, unauthenticated); deployed it uses the
function's service account. Uploads never pass through a function: :meth:`Bucket.upload_session`
opens a resumable upload session for one object and the browser sends the bytes to it
(docs/media.md says why a session URI and not a V4 signed URL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud.storage import Client as StorageClient

READ_CHUNK = 1024 * 1024  # One ranged read from the bucket: the buffer /media/ holds at most.


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
        """Bytes ``start``..``end`` (inclusive) of one generation, ``chunk`` bytes at a time.

        Each step is one ranged download, so memory holds one chunk whatever the object's size.
        """
        from google.api_core import exceptions as gexc

        blob = self._bucket.blob(object_name, generation=generation)
        position = start
        while position <= end:
            last = min(end, position + chunk - 1)
            try:
                data: bytes = blob.download_as_bytes(start=position, end=last, raw_download=True)
            except gexc.NotFound:
                return  # Deleted mid-stream (its post became final): the reader sees a short body.
            if not data:
                return
            yield data
            position += len(data)

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
