"""The Content Posting calls of the TikTok client: publish init, chunk upload, status, cancel.

A mixin of :class:`shared.tiktok.client.TikTokClient`, kept apart because publishing is its own
concept (docs/tiktok-api.md §3.2-3.7). What may be repeated differs from the rest of the client:

* An init is never repeated: TikTok may have created the post even when the answer was lost, and
  a second init would post twice. A failure after the request left is reported with the reason
  ``tiktok.init_outcome_unknown`` so the caller can record "outcome unknown" and check status.
* A chunk is never repeated here either: its body iterator is consumed by the first attempt. The
  caller re-reads the chunk and decides, helped by ``uploaded_bytes`` on a 416.
* status/fetch is a read and is retried like creator_info.
* cancel is retried too: a repeat after a cancel whose answer was lost finds the publish final and
  answers ``publish_not_cancellable``, which the caller reads as "nothing more to stop".

The upload URL is a bearer credential for the upload (valid one hour): it is registered for log
redaction and never put in an error or log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx

from shared import logs
from shared.config import is_loopback
from shared.errors import AppError, InvalidArgument
from shared.tiktok.errors import (
    envelope_data,
    init_error,
    init_transport_error,
    malformed,
    transport_error,
    upload_failure,
)
from shared.tiktok.models import (
    ChunkAck,
    InitResult,
    MalformedValue,
    PublishStatus,
    parse_init,
    parse_publish_status,
    uploaded_from_content_range,
)
from shared.tiktok.retry import Retry
from shared.tiktok.settings import PostSettings, post_info

if TYPE_CHECKING:
    from shared.store.documents import UploadPlanDoc

log = logging.getLogger(__name__)
T = TypeVar("T")

VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
INBOX_INIT_PATH = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
CANCEL_PATH = "/v2/post/publish/cancel/"
# https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide
UPLOAD_CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})

Translate = Callable[[httpx.HTTPError, str], AppError]


class ClientCalls:
    """What a mixin of TikTokClient calls through: one translated request, the retry loop."""

    def _send(
        self, method: str, path: str, *, translate: Translate = transport_error, **kwargs: Any
    ) -> httpx.Response:
        raise NotImplementedError

    def _with_retries(self, call: Callable[[], T], retry: Retry, what: str) -> T:
        raise NotImplementedError


class PostingCalls(ClientCalls):
    """Publish init, chunk upload and status/fetch; mixed into TikTokClient."""

    def init_video(
        self,
        access_token: str,
        *,
        direct: bool,
        settings: PostSettings,
        video_url: str | None = None,
        upload: UploadPlanDoc | None = None,
    ) -> InitResult:
        """A video post: TikTok pulls ``video_url``, or the file is uploaded in the chunks of
        ``upload`` (``video_size``, ``chunk_size``, ``total_chunks``); a Direct Post with the
        creator's settings, or an upload to their inbox (finished in TikTok)."""
        source_info: dict[str, Any]
        if upload is not None:
            source_info = {
                "source": "FILE_UPLOAD",
                "video_size": upload["video_size"],
                "chunk_size": upload["chunk_size"],
                "total_chunk_count": upload["total_chunks"],
            }
        else:
            source_info = {"source": "PULL_FROM_URL", "video_url": video_url}
        if not direct:
            return self.init_video_inbox(access_token, source_info=source_info)
        info = post_info(settings, "video", direct=True)
        return self.init_video_direct(access_token, post_info=info, source_info=source_info)

    def init_photos(
        self,
        access_token: str,
        *,
        direct: bool,
        settings: PostSettings,
        urls: Sequence[str],
        cover_index: int,
    ) -> InitResult:
        """A photo post TikTok pulls from ``urls``: a Direct Post, or to the creator's inbox."""
        return self.init_photo(
            access_token,
            post_mode="DIRECT_POST" if direct else "MEDIA_UPLOAD",
            post_info=post_info(settings, "photo", direct=direct),
            source_info={
                "source": "PULL_FROM_URL",
                "photo_images": list(urls),
                "photo_cover_index": cover_index,
            },
            is_aigc=settings.is_aigc,
        )

    def init_video_direct(
        self,
        access_token: str,
        *,
        post_info: Mapping[str, Any],
        source_info: Mapping[str, Any],
    ) -> InitResult:
        """Direct Post of a video (§3.2, scope video.publish); sent once, never repeated."""
        body = {"post_info": dict(post_info), "source_info": dict(source_info)}
        return self._init(VIDEO_INIT_PATH, "video_init", access_token, body, source_info)

    def init_video_inbox(self, access_token: str, *, source_info: Mapping[str, Any]) -> InitResult:
        """Upload a video to the creator's inbox (§3.3, scope video.upload); no post_info."""
        body = {"source_info": dict(source_info)}
        return self._init(INBOX_INIT_PATH, "inbox_init", access_token, body, source_info)

    def init_photo(
        self,
        access_token: str,
        *,
        post_mode: str,
        post_info: Mapping[str, Any],
        source_info: Mapping[str, Any],
        is_aigc: bool | None = None,
    ) -> InitResult:
        """A photo post (§3.4): ``post_mode`` DIRECT_POST or MEDIA_UPLOAD, PULL_FROM_URL only.
        Photos go to /content/init/, never /video/init/ (§8)."""
        body: dict[str, Any] = {
            "media_type": "PHOTO",
            "post_mode": post_mode,
            "post_info": dict(post_info),
            "source_info": dict(source_info),
        }
        if is_aigc is not None:
            body["is_aigc"] = is_aigc  # top-level on the newer photo page
        return self._init(CONTENT_INIT_PATH, "content_init", access_token, body, source_info)

    def upload_chunk(
        self,
        upload_url: str,
        chunk: Iterable[bytes],
        *,
        first_byte: int,
        last_byte: int,
        total_bytes: int,
        content_type: str = "video/mp4",
    ) -> ChunkAck:
        """PUT one chunk to the whole ``upload_url``, streaming ``chunk`` (consumed once).

        206 -> ``ChunkAck(False, n)``; 201 -> ``ChunkAck(True, total_bytes)``. Chunks must be sent
        in order; a 416 carries TikTok's progress as ``uploaded_bytes``.
        """
        logs.register_secret(upload_url)
        _check_upload_url(upload_url)
        if not 0 <= first_byte <= last_byte < total_bytes:
            raise InvalidArgument(
                f"bad chunk range {first_byte}-{last_byte}/{total_bytes}",
                reason="tiktok.bad_chunk_range",
            )
        if content_type not in UPLOAD_CONTENT_TYPES:
            raise InvalidArgument(
                f"TikTok accepts only {', '.join(sorted(UPLOAD_CONTENT_TYPES))} uploads",
                reason="tiktok.bad_content_type",
            )
        length = last_byte - first_byte + 1
        headers = {
            "Content-Type": content_type,
            # An explicit Content-Length makes httpx stream the iterator without chunked encoding.
            "Content-Length": str(length),
            "Content-Range": f"bytes {first_byte}-{last_byte}/{total_bytes}",
        }

        def call() -> ChunkAck:
            response = self._send(
                "PUT",
                upload_url,
                content=_exactly(chunk, length),
                headers=headers,
                translate=_upload_transport_error,
            )
            progress = uploaded_from_content_range(response.headers.get("Content-Range"))
            if response.status_code == 201:
                return ChunkAck(complete=True, uploaded_bytes=total_bytes)
            if response.status_code == 206:
                return ChunkAck(complete=False, uploaded_bytes=progress or last_byte + 1)
            raise upload_failure(response, progress)

        return self._with_retries(call, Retry.NEVER, "upload_chunk")

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        """Where a publish stands (§3.6). Post ids come back as strings: they exceed 2**53."""
        logs.register_secret(access_token)

        def call() -> PublishStatus:
            response = self._send(
                "POST", STATUS_PATH, json={"publish_id": publish_id}, headers=_json(access_token)
            )
            data = envelope_data(response)
            try:
                return parse_publish_status(data)
            except MalformedValue as exc:
                raise malformed("publish status", response) from exc

        return self._with_retries(call, Retry.SAFE, "fetch_status")

    def cancel_publish(self, access_token: str, publish_id: str) -> None:
        """Ask TikTok to stop a publish it has not finished (§3.7); best effort on TikTok's side.

        A publish already final or in file processing raises FailedPrecondition with the reason
        ``tiktok.publish_not_cancellable``; success carries no data. A successful cancel makes
        TikTok fail the publish with ``publish_cancelled`` (status/fetch and the webhook).
        """
        logs.register_secret(access_token)

        def call() -> None:
            response = self._send(
                "POST", CANCEL_PATH, json={"publish_id": publish_id}, headers=_json(access_token)
            )
            envelope_data(response)

        self._with_retries(call, Retry.SAFE, "cancel_publish")

    def _init(
        self,
        path: str,
        what: str,
        access_token: str,
        body: dict[str, Any],
        source_info: Mapping[str, Any],
    ) -> InitResult:
        logs.register_secret(access_token)

        def call() -> InitResult:
            response = self._send(
                "POST", path, json=body, headers=_json(access_token), translate=init_transport_error
            )
            try:
                data = envelope_data(response)
            except AppError as error:
                raise init_error(error, response, source_info) from error
            try:
                result = parse_init(data, file_upload=source_info.get("source") == "FILE_UPLOAD")
            except MalformedValue as exc:
                raise malformed("publish init", response) from exc
            logs.register_secret(result.upload_url)
            log.info(
                "tiktok publish initialised", extra={"call": what, "publish_id": result.publish_id}
            )
            return result

        return self._with_retries(call, Retry.NEVER, what)


def _upload_transport_error(exc: httpx.HTTPError, _url: str) -> AppError:
    return transport_error(exc, "chunk upload")  # never the URL, not even its path


def _json(access_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "Content-Type": "application/json; charset=UTF-8",
    }


def _check_upload_url(url: str) -> None:
    """https, or http to a loopback host (the local fake); the URL itself is never echoed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and is_loopback(host):
        return
    raise InvalidArgument(
        "the upload URL must be https (http only for a loopback emulator)",
        reason="tiktok.insecure_upload_url",
    )


def _exactly(chunk: Iterable[bytes], length: int) -> Iterator[bytes]:
    """Stream ``chunk`` unchanged, refusing to send more or fewer bytes than Content-Length says
    (the server would otherwise wait for missing bytes or read the surplus as a new request)."""
    sent = 0
    for piece in chunk:
        sent += len(piece)
        if sent > length:
            raise InvalidArgument(
                f"the chunk holds more than the {length} bytes its range names",
                reason="tiktok.chunk_length_mismatch",
            )
        yield piece
    if sent != length:
        raise InvalidArgument(
            f"the chunk holds {sent} bytes, its range names {length}",
            reason="tiktok.chunk_length_mismatch",
        )
