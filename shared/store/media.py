"""Firestore access for staging slots: ``users/{uid}/media/{media_id}``.

A slot records one staged object: its random object name (no user data in it), the declared and
the real type and size, a photo's dimensions or a video's duration, its state (``pending`` until
the upload is checked, then ``ready`` or ``refused``; ``used`` once a post took it, with that
post's id) and ``expire_at`` (a TTL policy deletes the document after it; every read treats an
expired pending slot as gone). Never a URL: the upload session URI goes to the browser only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from shared import errors
from shared.store.documents import SlotChanges, SlotDoc, to_firestore
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


def public_media(doc: SlotDoc) -> dict[str, Any]:
    """What the browser sees of a slot: fields absent where unknown, never the object's name."""
    body: dict[str, Any] = {"id": doc["id"], "state": doc["state"]}
    for name in PUBLIC_FIELDS:
        value = doc.get(name)
        if value is not None:
            body[name] = value
    expire_at = doc.get("expire_at")
    if isinstance(expire_at, datetime):
        body["expire_at"] = expire_at.isoformat()
    if refusal := doc.get("refusal"):
        body["refusal"] = refusal
    if post_id := doc.get("post_id"):
        body["post_id"] = post_id
    return body


class MediaStore(LiveUsers):
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def new_id(self, uid: str) -> str:
        ref: Any = self.db.collection(USERS, uid, MEDIA).document()
        media_id: str = ref.id
        return media_id

    def create(self, uid: str, media_id: str, doc: SlotDoc) -> None:
        self.db.document(media_path(uid, media_id)).create(to_firestore(doc))

    def get(self, uid: str, media_id: str) -> SlotDoc | None:
        return cast("SlotDoc | None", self.db.document(media_path(uid, media_id)).get().to_dict())

    def update(self, uid: str, media_id: str, changes: SlotChanges) -> None:
        self.db.document(media_path(uid, media_id)).update(to_firestore(changes))

    def delete(self, uid: str, media_id: str) -> None:
        self.db.document(media_path(uid, media_id)).delete()

    def all_of(self, uid: str) -> list[SlotDoc]:
        return _slots(self.db.collection(USERS, uid, MEDIA).stream())

    def of_post(self, uid: str, post_id: str) -> list[SlotDoc]:
        from google.cloud.firestore_v1.base_query import FieldFilter

        query = self.db.collection(USERS, uid, MEDIA).where(
            filter=FieldFilter("post_id", "==", post_id)
        )
        return _slots(query.stream())

    def take_for_post(
        self,
        uid: str,
        media_ids: list[str],
        *,
        kind: str,
        post_id: str,
        now: datetime,
        expire_at: datetime,
    ) -> list[SlotDoc]:
        """Mark every slot ``used`` by ``post_id`` in one transaction, or none of them.

        Each must exist, be ``ready``, be of ``kind`` and not be taken by another post; the
        refusal names the first that is not, by its index in ``media_ids``.
        """
        from google.cloud import firestore

        refs = [self.db.document(media_path(uid, m)) for m in media_ids]

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> list[SlotDoc]:
            docs = []
            for index, ref in enumerate(refs):
                doc = cast("SlotDoc | None", ref.get(transaction=transaction).to_dict())
                docs.append(_check_usable(doc, index, kind, now, len(refs)))
            used: SlotChanges = {
                "state": "used",
                "post_id": post_id,
                "used_at": now,
                "expire_at": expire_at,
            }
            for ref in refs:
                transaction.update(ref, to_firestore(used))
            return [{**d, **used} for d in docs]

        result: list[SlotDoc] = take(self.db.transaction())
        return result

    def extend(self, uid: str, post_id: str, expire_at: datetime) -> None:
        """Keep a post's used slots until ``expire_at`` (its scheduled time moved later)."""
        for doc in self.of_post(uid, post_id):
            if doc.get("expire_at") is None or doc["expire_at"] < expire_at:
                self.update(uid, doc["id"], {"expire_at": expire_at})

    def release(self, uid: str, post_id: str, now: datetime) -> None:
        """Give a post's slots back (its init was refused: nothing reached TikTok)."""
        from google.cloud import firestore

        ready: SlotChanges = {"state": "ready", "expire_at": now + READY_TTL}
        changes = {**to_firestore(ready), "post_id": firestore.DELETE_FIELD}
        for doc in self.of_post(uid, post_id):
            self.db.document(media_path(uid, doc["id"])).update(changes)

    def expired(self, now: datetime, limit: int) -> list[tuple[str, str, SlotDoc]]:
        """Up to ``limit`` (uid, media id, slot) of slots past ``expire_at``, the oldest first."""
        query = (
            where(self.db.collection_group(MEDIA), "expire_at", "<=", now)
            .order_by("expire_at")
            .limit(limit)
        )
        return [
            (s.reference.parent.parent.id, s.id, cast("SlotDoc", s.to_dict()))
            for s in query.stream()
        ]


def _slots(snapshots: Iterable[Any]) -> list[SlotDoc]:
    """The slots of a query's snapshots (a query yields only documents that exist)."""
    return [cast("SlotDoc", s.to_dict()) for s in snapshots]


def _check_usable(doc: SlotDoc | None, index: int, kind: str, now: datetime, count: int) -> SlotDoc:
    """``doc`` if a post may take it; else the error saying why not."""
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
    return doc
