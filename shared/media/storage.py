"""The staging bucket through the real ``google-cloud-storage`` client.

Locally the client talks to fake-gcs-server: the library itself honours
``STORAGE_EMULATOR_HOST`` (its requests go there, unauthenticated); deployed it uses the
function's service account. Uploads never pass through a function: :meth:`Bucket.upload_session`
opens a resumable upload session for one object and the browser sends the bytes to it
(docs/media.md says why a session URI and not a V4 signed URL).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests
    from google.auth.credentials import Credentials
    from google.cloud.storage import Client as StorageClient

READ_CHUNK = 1024 * 1024  # The piece read from the bucket and handed to the reader.

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None
    generation: int


def open_bucket(project_id: str, emulator_host: str | None, name: str) -> Bucket:
    """The staging bucket; its client and download session are made on the bucket's first use.

    Most media requests (reading a slot, TikTok's pull with a token no longer valid) only read
    Firestore: importing google-cloud-storage (with its XML, e-mail and OpenTelemetry modules)
    and google-auth's transport would cost their cold start for nothing.
    """
    return Bucket(functools.partial(_connect, project_id, emulator_host), name)


def _connect(project_id: str, emulator_host: str | None) -> tuple[StorageClient, requests.Session]:
    """The client and the download session of the bucket, under one set of credentials.

    Locally (``emulator_host``) the credentials are anonymous and every request goes to
    fake-gcs-server; deployed they are the function's service account from the environment
    (``google.auth.default``), scoped as the library scopes its own. The download session is
    google-auth's public :class:`~google.auth.transport.requests.AuthorizedSession` over those
    same credentials (one token, refreshed where either side needs it), so :meth:`Bucket.stream`
    does not reach into the client's private ``_http``.
    """
    import google.auth
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import storage

    if emulator_host:
        from google.auth.credentials import AnonymousCredentials

        credentials: Credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
        # The library reads STORAGE_EMULATOR_HOST for its endpoint; say it explicitly as well,
        # so a client built from settings never reaches the real service by accident.
        client = storage.Client(
            project=project_id,
            credentials=credentials,
            client_options={"api_endpoint": emulator_host},
        )
    else:
        credentials, _ = google.auth.default(scopes=storage.Client.SCOPE)
        client = storage.Client(project=project_id, credentials=credentials)
    downloads = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    return client, downloads


class Bucket:
    """The staging bucket: upload sessions, metadata, ranged streaming reads, deletion."""

    def __init__(
        self, connect: Callable[[], tuple[StorageClient, requests.Session]], name: str
    ) -> None:
        """``connect`` makes the client and an authorized download session for the same
        endpoint and credentials (:func:`_connect`), called once, when the bucket is first used;
        :meth:`stream` reads through the session."""
        self._connect = connect
        self.name = name

    @functools.cached_property
    def _connection(self) -> tuple[StorageClient, requests.Session]:
        return self._connect()

    @property
    def client(self) -> StorageClient:
        return self._connection[0]

    @property
    def downloads(self) -> requests.Session:
        return self._connection[1]

    @functools.cached_property
    def _bucket(self) -> Any:
        return self.client.bucket(self.name)

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

        A generator over one ranged GET through the bucket's authorized session (the client's
        credentials and endpoint, a connection pool of its own): each piece is read from
        the socket only when the reader asks for the next, at most ``chunk`` bytes at a time, so
        memory holds about one piece whatever the object's size and a slow reader slows the
        download. The library's ``download_to_file`` reads 8 KiB at a time into a file object,
        which cost a thread, a queue and three copies per byte here (docs/media.md measures
        both). A failure mid-way ends the body short (the reader sees fewer bytes than
        ``Content-Length``), never another object's bytes.
        """
        import requests
        import urllib3.exceptions

        blob = self._bucket.blob(object_name, generation=generation)
        url = f"{self.client.api_endpoint}/download/storage/v1{blob.path}"
        try:
            response = self.downloads.get(
                url,
                params={"alt": "media", "generation": str(generation)},
                headers={"Range": f"bytes={start}-{end}", "Accept-Encoding": "identity"},
                stream=True,
                timeout=(10, 60),
            )
        except requests.RequestException as exc:
            log.warning("staged media download failed: %s", type(exc).__name__)
            return
        try:
            if not _is_range(response, start, end):
                log.warning("staged media download refused: HTTP %s", response.status_code)
                return
            yield from response.raw.stream(chunk, decode_content=False)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            log.warning("staged media download failed: %s", type(exc).__name__)
        finally:
            response.close()

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


def _is_range(response: Any, start: int, end: int) -> bool:
    """Whether the answer holds exactly bytes ``start``..``end``: a 206 naming them, or a 200
    of the whole object when the whole object was asked for."""
    if response.status_code == 206:
        return str(response.headers.get("Content-Range", "")).startswith(f"bytes {start}-{end}/")
    if response.status_code == 200 and start == 0:
        return bool(response.headers.get("Content-Length") == str(end + 1))
    return False
