"""Publish-id pointers: ``publish_ids/{pointer_id(publish_id)}`` holds ``{publish_id, uid,
post_id, open_id}``, written the moment init returns (next to the post's ``publish_id``), so a
webhook finds its post in one read. Deleting a post or a user deletes the pointer too (its ``uid``
field lets a deletion find them all).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, cast

from shared.store.documents import PointerDoc, to_firestore

if TYPE_CHECKING:
    from google.cloud import firestore

PUBLISH_IDS = "publish_ids"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.~\-]{1,300}$")


def pointer_id(publish_id: str) -> str:
    """The pointer's document id: the publish id itself when Firestore allows it, else a hash."""
    if (
        _SAFE_ID.match(publish_id)
        and not publish_id.startswith("__")
        and publish_id
        not in {
            ".",
            "..",
        }
    ):
        return publish_id
    return "sha256-" + hashlib.sha256(publish_id.encode()).hexdigest()


class Pointers:
    """The pointers, for the status store (shared/store/status.py) to inherit."""

    db: firestore.Client

    def put_pointer(self, publish_id: str, *, uid: str, post_id: str, open_id: str) -> None:
        batch = self.db.batch()
        self.stage_pointer(batch, publish_id, uid=uid, post_id=post_id, open_id=open_id)
        batch.commit()

    def stage_pointer(
        self, writes: Any, publish_id: str, *, uid: str, post_id: str, open_id: str
    ) -> None:
        """Add the pointer's write to ``writes`` (a batch committed with the post's publish_id)."""
        pointer: PointerDoc = {
            "publish_id": publish_id,
            "uid": uid,
            "post_id": post_id,
            "open_id": open_id,
        }
        writes.set(
            self.db.collection(PUBLISH_IDS).document(pointer_id(publish_id)), to_firestore(pointer)
        )

    def drop_pointer(self, publish_id: str) -> None:
        self.db.collection(PUBLISH_IDS).document(pointer_id(publish_id)).delete()

    def find_post(self, publish_id: str) -> tuple[str, str] | None:
        """(uid, post_id) of the post TikTok's ``publish_id`` belongs to, or None."""
        ref = self.db.collection(PUBLISH_IDS).document(pointer_id(publish_id))
        data = cast("PointerDoc | None", ref.get().to_dict())
        if data is None or data["publish_id"] != publish_id:
            return None
        return data["uid"], data["post_id"]
