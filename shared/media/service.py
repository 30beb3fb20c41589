"""Staging slots: create one (an upload session for one object), check the uploaded bytes, show
or delete it, and delete a post's or a user's staged objects.

Order of writes: the slot document is created before the upload session exists, so no object
can be uploaded without a record naming it; deletion removes the object before its record, so a
failure half-way leaves a record the next attempt (or the sweep) finds again.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.media.convert import CONVERTIBLE
from shared.media.probe import probe
from shared.media.rules import check_photo, check_video, parse_slot_request
from shared.store.media import READY_TTL, MediaStore, public_media
from shared.users.deletion import user_deleted

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from shared.media.storage import Bucket, ObjectInfo
    from shared.store.documents import SlotChanges, SlotDoc

log = logging.getLogger(__name__)

UPLOAD_WINDOW = timedelta(hours=1)  # A slot must be completed within this; then it is gone.


@dataclass(frozen=True)
class Staging:
    media: MediaStore
    bucket: Bucket
    app_origin: str


def create_slot(s: Staging, *, uid: str, body: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    request = parse_slot_request(body)
    media_id = s.media.new_id(uid)
    doc: SlotDoc = {
        "id": media_id,
        "uid": uid,
        "object": f"staged/{secrets.token_urlsafe(24)}",
        "type": request.type,
        "declared_content_type": request.content_type,
        "declared_size": request.size,
        "state": "pending",
        "created_at": now,
        "expire_at": now + UPLOAD_WINDOW,
    }
    s.media.create(uid, media_id, doc)
    if not s.media.user_is_live(uid):  # written, then re-checked: shared/users/deletion.py
        s.media.delete(uid, media_id)
        raise user_deleted()
    url = s.bucket.upload_session(
        doc["object"], content_type=request.content_type, size=request.size, origin=s.app_origin
    )
    body_out = public_media(doc)
    body_out["upload"] = {
        "url": url,
        "method": "PUT",
        "headers": {"Content-Type": request.content_type},
        "protocol": "gcs-resumable",
    }
    return body_out


def live_slot(s: Staging, uid: str, media_id: str, now: datetime) -> SlotDoc:
    doc = s.media.get(uid, media_id)
    if doc is None or (doc["state"] == "pending" and doc["expire_at"] <= now):
        raise errors.NotFound(
            "no such staged media (or its upload window has passed)", reason="media.not_found"
        )
    return doc


def get_slot(s: Staging, *, uid: str, media_id: str, now: datetime) -> dict[str, Any]:
    return public_media(live_slot(s, uid, media_id, now))


def complete_slot(s: Staging, *, uid: str, media_id: str, now: datetime) -> dict[str, Any]:
    """Check the uploaded object's real bytes; ready, or refused naming what is wrong."""
    doc = live_slot(s, uid, media_id, now)
    if doc["state"] != "pending":  # Asked again: the outcome stands (a refusal is in the body).
        return public_media(doc)
    info = s.bucket.info(doc["object"])
    if info is None:
        raise errors.FailedPrecondition(
            "the upload has not finished: no object was received yet",
            reason="media.upload_missing",
        )

    def read_at(offset: int, length: int) -> bytes:
        if offset >= info.size:
            return b""
        last = min(info.size, offset + length) - 1
        return b"".join(s.bucket.stream(doc["object"], info.generation, offset, last, length))

    found = probe(read_at, info.size)
    changes: SlotChanges = {
        "size": info.size,
        "content_type": found.content_type,
        "width": found.width,
        "height": found.height,
        "duration_sec": found.duration_sec,
        "generation": info.generation,
        "completed_at": now,
    }
    try:
        if info.size != doc["declared_size"]:
            raise errors.FailedPrecondition(
                f"the upload is {info.size} bytes but {doc['declared_size']} were declared",
                reason="media.size_mismatch",
                limit=doc["declared_size"],
            )
        if doc["type"] == "photo":
            if found.content_type in CONVERTIBLE:
                changes.update(_converted(s, doc["object"], info, found.content_type, read_at))
            check_photo(
                None,
                changes["content_type"],
                changes["size"],
                changes["width"],
                changes["height"],
            )
        else:
            check_video(found.content_type, info.size, found.duration_sec)
    except errors.AppError as exc:
        refusal = {"reason": exc.reason, "message": exc.message, **exc.details}
        s.bucket.delete(doc["object"])
        refused: SlotChanges = {
            "state": "refused",
            "refusal": refusal,
            "expire_at": now + READY_TTL,
        }
        s.media.update(uid, media_id, {**changes, **refused})
        raise
    changes.update({"state": "ready", "expire_at": now + READY_TTL})
    s.media.update(uid, media_id, changes)
    return public_media({**doc, **changes})


def _converted(
    s: Staging, name: str, info: ObjectInfo, source_type: str, read_at: Callable[[int, int], bytes]
) -> SlotChanges:
    """A PNG or HEIC photo rewritten in place as JPEG (fitted within 1080p): the slot's changes."""
    from shared.media.convert import to_jpeg
    from shared.media.rules import PHOTO_LONG_SIDE_MAX, PHOTO_SHORT_SIDE_MAX

    # The source is read whole: its size is the declared one (checked), at most 20 MB.
    done = to_jpeg(read_at(0, info.size), source_type, PHOTO_LONG_SIDE_MAX, PHOTO_SHORT_SIDE_MAX)
    generation = s.bucket.replace(
        name, done.data, content_type="image/jpeg", generation=info.generation
    )
    changes: SlotChanges = {
        "content_type": "image/jpeg",
        "size": len(done.data),
        "width": done.width,
        "height": done.height,
        "generation": generation,
        "converted_from": source_type,
    }
    if (done.width, done.height) != (done.source_width, done.source_height):
        changes["resized_from"] = {"width": done.source_width, "height": done.source_height}
    return changes


def delete_slot(s: Staging, *, uid: str, media_id: str, now: datetime) -> None:
    doc = live_slot(s, uid, media_id, now)
    if doc["state"] == "used":
        raise errors.FailedPrecondition(
            "this media belongs to a post; it is deleted as soon as the post is final",
            reason="media.in_use",
            post_id=doc.get("post_id"),
        )
    s.bucket.delete(doc["object"])
    s.media.delete(uid, media_id)


def delete_post_media(s: Staging, *, uid: str, post_id: str) -> int:
    """Delete every staged object of a post and its slot; repeatable. Returns objects deleted."""
    count = 0
    for doc in s.media.of_post(uid, post_id):
        if s.bucket.delete(doc["object"]):
            count += 1
        s.media.delete(uid, doc["id"])
    if count:
        log.info("staged media deleted", extra={"post_id": post_id, "objects": count})
    return count


def delete_user_media(s: Staging, *, uid: str, keep: Callable[[str], bool] | None = None) -> int:
    """Delete the user's staged objects and their slots (account deletion: all of them).

    ``keep`` (disconnect): given a used slot's post id, True keeps it (its post belongs
    to another, still connected account). Unused slots always go.
    """
    count = 0
    for doc in s.media.all_of(uid):
        if keep is not None and doc.get("post_id") and keep(doc["post_id"]):
            continue
        if s.bucket.delete(doc["object"]):
            count += 1
        s.media.delete(uid, doc["id"])
    return count
