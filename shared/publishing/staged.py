"""Staged media in a publish: take the slots for the post, and build the ``/media/{token}`` URLs
TikTok's init pulls from, on the app's own origin (the URL prefix the operator verified).

One token per object, bound to the user, the post and the object, expiring an hour after the
init (TikTok's download window). The URLs are handed to TikTok's init only: never stored (they
are bearer credentials for an hour) and never shown to the browser.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared import errors
from shared.media.tokens import MediaGrant
from shared.publishing.rules import PublishRequest

if TYPE_CHECKING:
    from shared.media.service import Staging
    from shared.media.tokens import MediaTokens

MEDIA_URL_TTL = timedelta(hours=1)  # TikTok's download times out an hour after init (§7).
# A used slot's record lives until its post is final (then it is deleted with its object); this
# bounds it if the post never reports.
USED_TTL = timedelta(days=2)


def take(
    staging: Staging,
    uid: str,
    post_id: str,
    request: PublishRequest,
    now: datetime,
    *,
    due: datetime | None = None,
) -> PublishRequest:
    """Mark the request's staged media used by ``post_id``; the request with what they are.

    ``due`` is a scheduled post's time: its media is kept until USED_TTL after it, not after now.
    """
    media = request.media
    slots = staging.media.take_for_post(
        uid,
        list(media.media_ids),
        kind=media.type,
        post_id=post_id,
        now=now,
        expire_at=(due or now) + USED_TTL,
    )
    if media.type == "photo":  # Each was checked against the photo rules at completion.
        return request
    duration = request.duration_sec or slots[0].get("duration_sec")
    if request.mode == "direct" and duration is None:
        staging.media.release(uid, post_id, now)
        raise errors.InvalidArgument(
            "duration_sec is required for a video Direct Post: the staged video's container does "
            "not say how long it is",
            reason="request.duration_sec",
        )
    return dataclasses.replace(request, duration_sec=float(duration) if duration else None)


def urls(
    tokens: MediaTokens,
    app_origin: str,
    uid: str,
    post_id: str,
    request: PublishRequest,
    now: datetime,
) -> PublishRequest:
    """The request with the /media/ URLs TikTok's init pulls (one token per object)."""
    expires = int((now + MEDIA_URL_TTL).timestamp())
    built = tuple(
        f"{app_origin}/media/{tokens.issue(MediaGrant(uid, post_id, media_id, expires))}"
        for media_id in request.media.media_ids
    )
    if request.media.type == "photo":
        media = dataclasses.replace(request.media, photo_urls=built)
    else:
        media = dataclasses.replace(request.media, url=built[0])
    return dataclasses.replace(request, media=media)
