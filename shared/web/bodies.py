"""Request bodies, bounded in memory and in time whatever the client sends.

functions-framework reads whatever body a function left unread once it has answered (its
``read_request`` after-request hook calls ``request.get_data()``, which buffers the rest whole),
except after a streamed response. So a route that refuses a request without reading it (403 for
a missing Origin, 401, 413) would have the instance hold all of a 96 MiB body. Here:

- a handler that buffers a body reads at most its limit (:func:`read_body`);
- once the handler has answered, :func:`finish` discards what is left in small pieces, up to
  :data:`DRAIN_LIMIT` (Cloud Functions' own request size limit); a body larger than that is not
  read at all: the answer goes out streamed, so the framework does not buffer it, with
  ``Connection: close``;
- reading a buffered body or draining one must end within :data:`BODY_DEADLINE_SECONDS`, and no
  read of any body (the chunk relay's stream included) may stall for more than
  :data:`IDLE_SECONDS`: a watchdog shuts the connection's reading side when a deadline passes, so
  a body that trickles in cannot hold a thread.

What an unauthenticated request can make an instance hold is therefore one piece of
:data:`PIECE` bytes plus the largest buffered limit (the 64 KiB JSON limit), for at most the
deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import flask
from werkzeug.exceptions import ClientDisconnected

from shared import errors

PIECE = 64 * 1024
DRAIN_LIMIT = 32 * 1024 * 1024
BODY_DEADLINE_SECONDS = 10.0
IDLE_SECONDS = 30.0


def read_body(request: flask.Request, limit: int) -> bytes:
    """At most ``limit`` bytes of body; 413 if the caller declared or sent more, 408 if it does
    not arrive within the deadline."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise errors.PayloadTooLarge(f"the body is {declared} bytes; at most {limit} are accepted")
    data = bytearray()
    with _deadline(request, BODY_DEADLINE_SECONDS) as watch:
        try:
            while len(data) <= limit:
                piece = request.stream.read(min(PIECE, limit + 1 - len(data)))
                if not piece:
                    break
                data += piece
        except ClientDisconnected:
            if watch.fired:
                raise errors.RequestTimeout(
                    f"the body did not arrive within {BODY_DEADLINE_SECONDS:g} seconds"
                ) from None
            raise errors.InvalidArgument(
                "the body ended before the length its Content-Length declared"
            ) from None
    if watch.fired:  # A chunked body cut off by the watchdog simply ends early.
        raise errors.RequestTimeout(
            f"the body did not arrive within {BODY_DEADLINE_SECONDS:g} seconds"
        )
    if len(data) > limit:
        raise errors.PayloadTooLarge(f"the body is larger than {limit} bytes")
    return bytes(data)


def limit_idle(request: flask.Request) -> None:
    """No read of this request's body (or write of its answer) may stall past IDLE_SECONDS."""
    sock = _socket(request)
    if sock is not None:
        with contextlib.suppress(OSError):  # Already closed: the read will say so.
            sock.settimeout(IDLE_SECONDS)


def finish(request: flask.Request, response: flask.Response) -> flask.Response:
    """``response``, once nothing of the body is left for the framework to buffer."""
    stream = request.stream
    if getattr(stream, "is_exhausted", False) or request.content_length == 0:
        return response
    if request.content_length is None and "chunked" not in request.headers.get(
        "Transfer-Encoding", ""
    ):
        return response  # No body at all (werkzeug gives an empty stream).
    declared = request.content_length
    if declared is None or declared <= DRAIN_LIMIT:
        with _deadline(request, BODY_DEADLINE_SECONDS):
            try:
                drained = 0
                while drained <= DRAIN_LIMIT:
                    piece = stream.read(PIECE)
                    if not piece:
                        return response
                    drained += len(piece)
            except (ClientDisconnected, OSError):
                pass
    return _unbuffered(response)


def _unbuffered(response: flask.Response) -> flask.Response:
    """The same answer, streamed (so functions-framework does not read the rest of the body)
    and closing the connection (whose unread bytes no next request could follow)."""
    response.headers["Connection"] = "close"
    if response.is_streamed:
        return response
    body = response.get_data()
    response.response = _once(body)
    response.headers["Content-Length"] = str(len(body))
    return response


def _once(body: bytes) -> Iterator[bytes]:
    yield body


def _socket(request: flask.Request) -> socket.socket | None:
    for key in ("gunicorn.socket", "werkzeug.socket"):
        sock = request.environ.get(key)
        if isinstance(sock, socket.socket):
            return sock
    return None


class _Watch:
    def __init__(self) -> None:
        self.fired = False
        self.done = False


class _Watchdog:
    """One thread ending body reads that pass their deadline, by shutting the socket's reading
    side: a read blocked on it returns at once, and the answer can still be written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Watch, socket.socket]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, sock: socket.socket, seconds: float) -> _Watch:
        watch = _Watch()
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._order), watch, sock))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="body-deadline", daemon=True)
                self._thread.start()
            self._wake.notify()
        return watch

    def release(self, watch: _Watch) -> None:
        with self._lock:  # Under the lock: a released watch never fires afterwards.
            watch.done = True

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    continue
                due, _, watch, sock = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._heap)
                watch.fired = True  # Not done, checked under the lock above.
            with contextlib.suppress(OSError):  # Already closed.
                sock.shutdown(socket.SHUT_RD)


_watchdog = _Watchdog()


@contextmanager
def _deadline(request: flask.Request, seconds: float) -> Iterator[Any]:
    sock = _socket(request)
    if sock is None:  # Not served from a socket (tests calling a function directly).
        yield _Watch()
        return
    watch = _watchdog.add(sock, seconds)
    try:
        yield watch
    finally:
        _watchdog.release(watch)
