"""Firestore access for staging slots: ``users/{uid}/media/{media_id}``.

A slot records one staged object: its random object name (no user data in it), the declared and
the real type and size, a photo's dimensions or a video's duration, its state (``pending`` until
the upload is checked, then ``ready`` or ``refused``; ``used`` once a post took it, with that
post's id) and ``expire_at`` (a TTL policy deletes the document after it; every read treats an
expired pending slot as gone). Never a URL: the upload session URI goes to the browser only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.store.query import where
from shared.store.users import USERS, LiveUsers, checked_id

if TYPE_CHECKING:
    from google.cloud import firestore

MEDIA = "media"
READY_TTL = timedelta(days=1)  # A checked slot no post took is deleted after this.
PUBLIC_FIELDS = (
    "type",
    "content_type",
    "size",
    "width",
    "height",
    "duration_sec",
    "converted_from",
    "resized_from",
)


def media_path(uid: str, media_id: str) -> str:
    return f"{USERS}/{uid}/{MEDIA}/{checked_id(media_id, 'staged media')}"


def public_media(doc: dict[str, Any]) -> dict[str, Any]:
    """What the browser sees of a slot: fields absent where unknown, never the object's name."""
    body: dict[str, Any] = {"id": doc["id"], "state": doc["state"]}
    for name in PUBLIC_FIELDS:
        if doc.get(name) is not None:
            body[name] = doc[name]
    expire_at = doc.get("expire_at")
    if isinstance(expire_at, datetime):
        body["expire_at"] = expire_at.isoformat()
    if doc.get("refusal"):
        body["refusal"] = doc["refusal"]
    if doc.get("post_id"):
        body["post_id"] = doc["post_id"]
    return body


class MediaStore(LiveUsers):
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def new_id(self, uid: str) -> str:
        ref: Any = self.db.collection(USERS, uid, MEDIA).document()
        media_id: str = ref.id
        return media_id

    def create(self, uid: str, media_id: str, doc: dict[str, Any]) -> None:
        self.db.document(media_path(uid, media_id)).create(doc)

    def get(self, uid: str, media_id: str) -> dict[str, Any] | None:
        return self.db.document(media_path(uid, media_id)).get().to_dict()

    def update(self, uid: str, media_id: str, changes: dict[str, Any]) -> None:
        self.db.document(media_path(uid, media_id)).update(changes)

    def delete(self, uid: str, media_id: str) -> None:
        self.db.document(media_path(uid, media_id)).delete()

    def all_of(self, uid: str) -> list[dict[str, Any]]:
        return [d.to_dict() or {} for d in self.db.collection(USERS, uid, MEDIA).stream()]

    def of_post(self, uid: str, post_id: str) -> list[dict[str, Any]]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.db.collection(USERS, uid, MEDIA).where(
            filter=FieldFilter("post_id", "==", post_id)
        )
        return [d.to_dict() or {} for d in query.stream()]

    def take_for_post(
        self,
        uid: str,
        media_ids: list[str],
        *,
        kind: str,
        post_id: str,
        now: datetime,
        expire_at: datetime,
    ) -> list[dict[str, Any]]:
        """Mark every slot ``used`` by ``post_id`` in one transaction, or none of them.

        Each must exist, be ``ready``, be of ``kind`` and not be taken by another post; the
        refusal names the first that is not, by its index in ``media_ids``.
        """
        from google.cloud import firestore

        refs = [self.db.document(media_path(uid, m)) for m in media_ids]

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> list[dict[str, Any]]:
            docs = []
            for index, ref in enumerate(refs):
                doc = ref.get(transaction=transaction).to_dict()
                _check_usable(doc, index, kind, now, len(refs))
                docs.append(doc)
            for ref in refs:
                transaction.update(
                    ref,
                    {"state": "used", "post_id": post_id, "used_at": now, "expire_at": expire_at},
                )
            return [dict(d, state="used", post_id=post_id) for d in docs if d is not None]

        result: list[dict[str, Any]] = take(self.db.transaction())
        return result

    def extend(self, uid: str, post_id: str, expire_at: datetime) -> None:
        """Keep a post's used slots until ``expire_at`` (its scheduled time moved later)."""
        for doc in self.of_post(uid, post_id):
            if doc.get("expire_at") is None or doc["expire_at"] < expire_at:
                self.update(uid, doc["id"], {"expire_at": expire_at})

    def release(self, uid: str, post_id: str, now: datetime) -> None:
        """Give a post's slots back (its init was refused: nothing reached TikTok)."""
        from google.cloud import firestore

        for doc in self.of_post(uid, post_id):
            self.update(
                uid,
                doc["id"],
                {"state": "ready", "post_id": firestore.DELETE_FIELD, "expire_at": now + READY_TTL},
            )

    def expired(self, now: datetime, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
        """Up to ``limit`` (uid, media id, slot) of slots past ``expire_at``, the oldest first."""
        query = (
            where(self.db.collection_group(MEDIA), "expire_at", "<=", now)
            .order_by("expire_at")
            .limit(limit)
        )
        return [(s.reference.parent.parent.id, s.id, s.to_dict() or {}) for s in query.stream()]


def _check_usable(
    doc: dict[str, Any] | None, index: int, kind: str, now: datetime, count: int
) -> None:
    which = f"media {index + 1}" if count > 1 else "the staged media"
    details: dict[str, Any] = {"index": index}
    if doc is None or (doc.get("state") == "pending" and doc["expire_at"] <= now):
        raise errors.NotFound(
            f"{which} does not exist (or has expired)", reason="media.not_found", **details
        )
    if doc.get("type") != kind:
        raise errors.InvalidArgument(
            f"{which} is a {doc.get('type')}, not a {kind}", reason="media.wrong_type", **details
        )
    state = doc.get("state")
    if state == "used":
        raise errors.FailedPrecondition(
            f"{which} is already used by another post; stage it again",
            reason="media.already_used",
            **details,
        )
    if state == "pending":
        raise errors.FailedPrecondition(
            f"{which} is not checked yet; complete its upload first",
            reason="media.pending",
            **details,
        )
    if state != "ready":
        refusal = doc.get("refusal") or {}
        raise errors.FailedPrecondition(
            f"{which} was refused: {refusal.get('message', 'it breaks a rule')}",
            reason="media.refused",
            **details,
        )
