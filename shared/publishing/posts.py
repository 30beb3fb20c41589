"""A post as stored and as shown: the one mapping between the two, for every route."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.publishing.rules import PublishRequest
from shared.publishing.schedule import Schedule, display
from shared.store.posts import SCHEDULED
from shared.tiktok.settings import SETTINGS

if TYPE_CHECKING:
    from shared.store.documents import PostChanges, PostDoc, UploadPlanDoc

PUBLIC_FIELDS = (
    "open_id",
    "publish_id",
    "status",
    "fail_reason",
    "mode",
    "media_type",
    "source",
    *SETTINGS,  # the user's post settings (shared/tiktok/settings.py), as stored
    "uploaded_bytes",
    "downloaded_bytes",
    "total_bytes",
    "next_chunk",
    "upload_complete",
    "draft_id",
    "media_ids",
    "status_source",  # webhook, poll, sweep, upload, user or schedule: what last moved it
    "schedule_tz",
    "late_by_sec",  # a scheduled post initialised more than LATE_AFTER after its time
)


def new_post_doc(
    uid: str,
    post_id: str,
    request: PublishRequest,
    *,
    plan: UploadPlanDoc | None,
    draft_id: str | None,
    idempotency_id: str | None,
    status_check_at: datetime | None,
    now: datetime,
) -> PostDoc:
    """The document recorded before TikTok's init is sent (status INITIALIZING)."""
    settings = request.post
    return {
        "uid": uid,
        "post_id": post_id,
        "open_id": request.open_id,
        "mode": request.mode,
        "media_type": request.media.type,
        "source": request.media.source,
        "media_url": request.media.url,
        "photo_urls": list(request.media.photo_urls),
        "media_ids": list(request.media.media_ids),  # staged media; never their /media/ URLs
        "photo_cover_index": request.media.cover_index if request.media.type == "photo" else None,
        # The settings (shared/tiktok/settings.py), spelt out: mypy checks each against PostDoc.
        "title": settings.title,
        "description": settings.description,
        "privacy_level": settings.privacy_level,
        "allow_comment": settings.allow_comment,
        "allow_duet": settings.allow_duet,
        "allow_stitch": settings.allow_stitch,
        "brand_content": settings.brand_content,
        "brand_organic": settings.brand_organic,
        "disclose_commercial_content": settings.disclose_commercial_content,
        "is_aigc": settings.is_aigc,
        "auto_add_music": settings.auto_add_music,
        "cover_timestamp_ms": settings.cover_timestamp_ms,
        "duration_sec": request.duration_sec,
        "draft_id": draft_id,
        "idempotency_id": idempotency_id,
        "publish_id": None,
        "status": "INITIALIZING",
        "fail_reason": None,
        "post_ids": [],
        "upload_plan": plan,
        "total_bytes": plan["video_size"] if plan else None,
        "uploaded_bytes": 0 if plan else None,
        "downloaded_bytes": None,
        "next_chunk": 0 if plan else None,
        "upload_complete": False if plan else None,
        "status_check_at": status_check_at,
        "created_at": now,
        "updated_at": now,
    }


def scheduled_fields(schedule: Schedule, now: datetime) -> PostChanges:
    """What makes a new post ``SCHEDULED`` (no init until it is due: shared/publishing/due.py)."""
    return {
        **schedule.fields(),
        "status": SCHEDULED,
        "status_source": "user",
        "scheduled_at": now,
        "status_check_at": None,
    }


def public_post(post_id: str, doc: PostDoc) -> dict[str, Any]:
    """What the frontend sees: never the upload URL or its ciphertext."""
    plan = doc.get("upload_plan")
    body: dict[str, Any] = {"id": post_id}
    body.update({name: doc.get(name) for name in PUBLIC_FIELDS})
    body["post_ids"] = [str(p) for p in doc.get("post_ids") or []]
    body["withdrawn_post_ids"] = [str(p) for p in doc.get("withdrawn_post_ids") or []]
    body["media_ids"] = [str(m) for m in doc.get("media_ids") or []]  # none in posts from before
    body["upload"] = (
        {
            "video_size": plan["video_size"],
            "chunk_size": plan["chunk_size"],
            "total_chunks": plan["total_chunks"],
        }
        if plan
        else None
    )
    for name in ("created_at", "updated_at", "status_checked_at"):
        value = doc.get(name)
        body[name] = value.isoformat() if isinstance(value, datetime) else value
    at = doc.get("schedule_at")
    body["schedule_at"] = display(at, doc.get("schedule_tz")) if isinstance(at, datetime) else None
    return body


def request_body(doc: PostDoc) -> dict[str, Any]:
    """The publish request a stored post was made from, as ``POST /api/publish`` takes it, so a
    scheduled post is checked (when edited, and again when due) by the very rules it was checked
    by when scheduled (``shared/publishing/rules.py``)."""
    media: dict[str, Any]
    ids = [str(m) for m in doc.get("media_ids") or []]
    if doc.get("media_type") == "photo":
        cover = doc.get("photo_cover_index") or 0
        if ids:
            media = {"type": "photo", "media_ids": ids, "cover_index": cover}
        else:
            media = {
                "type": "photo",
                "urls": list(doc.get("photo_urls") or []),
                "cover_index": cover,
            }
    elif ids:
        media = {"type": "video", "source": "staged", "media_id": ids[0]}
    else:
        media = {"type": "video", "source": "url", "url": doc.get("media_url")}
    post = {name: doc.get(name) for name in SETTINGS if doc.get(name) is not None}
    body: dict[str, Any] = {
        "open_id": doc.get("open_id"),
        "mode": doc.get("mode"),
        "media": media,
        "post": post,
    }
    if doc.get("duration_sec") is not None:
        body["duration_sec"] = doc["duration_sec"]
    return body
