"""PULL_FROM_URL as the fake plays it: a background download, really made, never redirected.

TikTok fetches the media itself; a redirect is an invalid URL, and the whole download must finish
within an hour (docs/tiktok-api.md §7, https://developers.tiktok.com/docs/en/
content-posting-api-media-transfer-guide). Failures end the publish with ``video_pull_failed`` or
``photo_pull_failed`` (§3.6); the fake's log and its control view (``fail_detail``) say which
file failed, where from and how to fix it locally. Only byte counts and a SHA-256 per file are
kept, never the bytes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from urllib.parse import urlsplit

import httpx

from emulator.tiktok.publishes import FINAL, Publish, PublishBook

log = logging.getLogger("emulator.tiktok.pull")

DOWNLOAD_DEADLINE = 3600.0
PIECE = 64 * 1024


class PullFailed(Exception):
    """The download cannot finish; the publish fails."""


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """One client for every download: building one costs tens of milliseconds of CPU (its TLS
    context), which a minute of thousands of pulls would pay each time. No pool limit: each
    download holds its connection for as long as it runs."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                timeout=httpx.Timeout(30.0, connect=5.0),
                follow_redirects=False,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
            )
        return _client


def start_pull(book: PublishBook, publish: Publish, urls: list[str], processing: float) -> None:
    thread = threading.Thread(
        target=_pull,
        args=(book, publish, urls, processing),
        name=f"pull-{publish.publish_id}",
        daemon=True,
    )
    thread.start()


def _pull(book: PublishBook, publish: Publish, urls: list[str], processing: float) -> None:
    reason = "photo_pull_failed" if publish.kind == "photo" else "video_pull_failed"
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    try:
        http = _http()
        for url in urls:
            _download(book, publish, http, url, deadline)
            if publish.cancelled.is_set():
                return
    except (httpx.HTTPError, PullFailed) as exc:
        with book.lock:
            done = len(publish.downloads)
        what = f"{publish.kind} {done + 1} of {len(urls)}" if len(urls) > 1 else publish.kind
        detail = (
            f"{reason}: the {what} could not be downloaded from {_origin(urls[done])} "
            f"({_why(exc)}). The fake TikTok downloads media itself, as TikTok does: serve the "
            "file at that URL so that a GET from this machine answers 200 without a redirect "
            "(docs/fake-tiktok.md)."
        )
        log.info("pull failed for %s: %s", publish.publish_id, detail)
        with book.lock:
            if publish.status not in FINAL:  # a cancelled publish keeps its own reason
                publish.fail_detail = detail
        book.fail(publish, reason)
        return
    with book.lock:
        if publish.status not in FINAL:
            book.start_processing(publish, processing)


def _origin(url: str) -> str:
    """Scheme, host and port only: the path of a media URL may carry a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _why(exc: Exception) -> str:
    if isinstance(exc, PullFailed):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "nothing answered there"
    return type(exc).__name__


def _download(
    book: PublishBook, publish: Publish, http: httpx.Client, url: str, deadline: float
) -> None:
    digest = hashlib.sha256()
    count = 0
    with http.stream("GET", url) as response:
        if response.status_code != 200:  # 3xx included: TikTok does not follow redirects
            raise PullFailed(f"it answered HTTP {response.status_code}")
        for piece in response.iter_bytes(PIECE):
            if publish.cancelled.is_set():
                return
            if time.monotonic() > deadline:
                raise PullFailed("download took longer than an hour")
            digest.update(piece)
            count += len(piece)
            with book.lock:
                publish.downloaded_bytes += len(piece)
    with book.lock:
        publish.downloads.append({"url": url, "bytes": count, "sha256": digest.hexdigest()})
