"""The fake's chunk upload target ``PUT /upload/?upload_id&upload_token`` (docs/tiktok-api.md §3.5).

Follows https://developers.tiktok.com/docs/en/content-posting-api-media-transfer-guide: a
``Content-Type`` of video/mp4, video/quicktime or video/webm; ``Content-Length`` equal to the
range and to the bytes actually sent; ``Content-Range: bytes {first}-{last}/{total}`` naming the
next chunk of the init's plan (chunks are sequential, the last carries the remainder). Answers
206 per accepted chunk and 201 once all parts are in, each with the progress header
``Content-Range: bytes 0-{uploaded-1}/{total}``; 400 for bad headers or length, 403 once the URL's
hour is over (fake clock), 404 for an unknown upload, 416 when the range is not the next chunk.

The body is read as a stream: only a running byte count and SHA-256 per upload are kept, so a
multi-gigabyte upload costs no memory. A refused body is drained so the connection stays usable.
"""

from __future__ import annotations

import re
import secrets
import time

import flask
from werkzeug.exceptions import HTTPException

from emulator.tiktok.common import envelope_error, world
from emulator.tiktok.publishes import FAILED, Publish, Upload

bp = flask.Blueprint("upload", __name__)

CONTENT_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
PIECE = 256 * 1024
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def _drain() -> int:
    """Read and count the rest of the body without keeping it."""
    count = 0
    try:
        while piece := flask.request.stream.read(PIECE):
            count += len(piece)
    except HTTPException:
        pass  # the client went away mid-body
    return count


def _progress(task: Upload) -> str:
    if task.received_bytes == 0:
        return f"bytes */{task.video_size}"
    return f"bytes 0-{task.received_bytes - 1}/{task.video_size}"


class _Refusal(Exception):
    """A refused chunk, decided under the lock and answered after it (draining takes time)."""

    def __init__(self, status: int, code: str, message: str, task: Upload | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.progress = _progress(task) if task is not None else None


def _refuse(refusal: _Refusal) -> flask.Response:
    _drain()
    response = envelope_error(refusal.status, refusal.code, refusal.message)
    if refusal.progress is not None:
        response.headers["Content-Range"] = refusal.progress
    return response


@bp.put("/upload/")
def upload() -> flask.Response:
    state = world()
    with state.lock:
        state.calls["upload"] += 1
    failure = state.take_failure("upload")
    if failure is not None:
        return _refuse(_Refusal(failure.status, failure.code, failure.message))
    try:
        publish, task, length = _claim()
    except _Refusal as refusal:
        return _refuse(refusal)
    digest = task.digest.copy()  # committed only if the whole chunk arrives
    received = 0
    with state.lock:
        mbps = state.config.ingress_mbps
    started = time.monotonic()
    try:
        while piece := flask.request.stream.read(PIECE):
            digest.update(piece)
            received += len(piece)
            if mbps:
                # Read no faster than TikTok's ingress: the sender's TCP window backs off.
                ahead = received * 8 / (mbps * 1e6) - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    except HTTPException:
        pass  # fewer bytes than Content-Length: refused below
    with state.lock:
        task.busy = False
        if received != length:
            return _refuse(
                _Refusal(400, "invalid_file_upload", "Body shorter than Content-Length.", task)
            )
        task.digest = digest
        task.received_bytes += received
        task.chunks_received += 1
        response = flask.Response(status=201 if task.complete else 206)
        response.headers["Content-Range"] = _progress(task)
        if task.complete:
            state.publishes.start_processing(publish, state.config.processing_seconds)
        return response


def _claim() -> tuple[Publish, Upload, int]:
    """The upload this PUT is the next chunk of, marked busy; or the refusal."""
    state = world()
    args, headers = flask.request.args, flask.request.headers
    with state.lock:
        publish = state.publishes.by_upload.get(args.get("upload_id", ""))
        task = publish.upload if publish is not None else None
        if (
            publish is None
            or task is None
            or not secrets.compare_digest(task.upload_token, args.get("upload_token", ""))
            or publish.status == FAILED
        ):
            raise _Refusal(404, "not_found", "No upload task for this URL.")
        if state.now() > task.expires_at:
            raise _Refusal(403, "upload_url_expired", "The upload URL has expired.", task)
        if flask.request.mimetype not in CONTENT_TYPES:
            raise _Refusal(400, "invalid_file_upload", "Unsupported Content-Type.", task)
        match = _RANGE.match(headers.get("Content-Range", "").strip())
        if match is None:
            raise _Refusal(400, "invalid_file_upload", "Content-Range is missing or bad.", task)
        first, last, total = (int(g) for g in match.groups())
        length = flask.request.content_length
        if length is None or last < first or length != last - first + 1:
            raise _Refusal(
                400, "invalid_file_upload", "Content-Length does not match Content-Range.", task
            )
        expected = None if task.complete else task.chunk_range(task.chunks_received)
        if task.busy or total != task.video_size or (first, last) != expected:
            raise _Refusal(
                416, "range_not_satisfiable", "Content-Range does not match the progress.", task
            )
        task.busy = True
        return publish, task, length
