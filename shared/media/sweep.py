"""The expiry sweep of staging slots: a slot past ``expire_at`` loses its object and its record.

Run by the scheduled ``sweep_status`` job. The Firestore TTL policy alone would delete the record
and leave the object; this deletes the object first (a slot never completed whose upload arrived
anyway, a checked photo no post took, a post that never reported), so staged bytes never outlive
their slot by more than one sweep interval. The bucket's lifecycle rule is the backstop.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.media.service import Staging

log = logging.getLogger(__name__)

SWEEP_LIMIT = 500


def sweep_expired_slots(s: Staging, *, now: datetime, limit: int = SWEEP_LIMIT) -> int:
    """Delete up to ``limit`` expired slots' objects and records, oldest first; returns how many."""
    count = 0
    for uid, media_id, doc in s.media.expired(now, limit):
        if doc.get("object"):
            s.bucket.delete(doc["object"])
        s.media.delete(uid, media_id)
        count += 1
    if count:
        log.info("expired staging slots deleted", extra={"slots": count})
    return count
