"""Firestore access for analytics: one snapshot per account per UTC day.

- ``users/{uid}/accounts/{open_id}/analytics/{YYYY-MM-DD}``: the account's stats
  (``follower_count``, ``following_count``, ``likes_count``, ``video_count``) and its most recent
  videos' metrics that day, with ``taken_at`` and ``expire_at`` (400 days; a TTL policy deletes
  older ones, and every read leaves expired ones out). The document id is the UTC date and the
  write is a create, so a redelivered or concurrent run can never store a second snapshot of a
  day. Video ids are strings: they exceed 2**53.
- ``users/{uid}/poll_budgets/{open_id}.display``: the Display API calls (user info, video list)
  made with the account's token in the last minute, shared by every instance, next to the
  status-poll budget of the same token.
- The account's ``analytics_enabled`` (default true) is its collection setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.store.accounts import ACCOUNTS, account_path
from shared.store.budgets import POLL_BUDGETS
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

ANALYTICS = "analytics"
RETENTION = timedelta(days=400)
ACCOUNT_STATS = ("follower_count", "following_count", "likes_count", "video_count")
# How long a started snapshot holds its day against duplicates: more than one takes (a few
# seconds), short enough that a redelivery after a crash is not turned away for long.
CLAIM_SECONDS = 300.0
VIDEO_METRICS = ("view_count", "like_count", "comment_count", "share_count")


def snapshot_path(uid: str, open_id: str, day: date) -> str:
    return f"{account_path(uid, open_id)}/{ANALYTICS}/{day.isoformat()}"


class AnalyticsStore:
    """Typed access to the analytics snapshots of accounts."""

    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def exists(self, uid: str, open_id: str, day: date) -> bool:
        return bool(self.db.document(snapshot_path(uid, open_id, day)).get().exists)

    def create(
        self,
        uid: str,
        open_id: str,
        day: date,
        *,
        account: dict[str, int],
        videos: list[dict[str, Any]],
        now: datetime,
    ) -> bool:
        """Store the day's snapshot; False (nothing written) when the day already has one."""
        from google.api_core.exceptions import AlreadyExists

        doc = {
            "uid": uid,
            "open_id": open_id,
            "date": day.isoformat(),
            "taken_at": now,
            "expire_at": now + RETENTION,
            "account": account,
            "videos": videos,
        }
        try:
            self.db.document(snapshot_path(uid, open_id, day)).create(doc)
        except AlreadyExists:
            return False
        return True

    def between(
        self, uid: str, open_id: str, first: date, last: date, now: datetime
    ) -> Iterator[dict[str, Any]]:
        """The snapshots from ``first`` to ``last`` (inclusive), oldest first; expired ones left
        out. Ids are dates, so a document-id range is the date range (no index needed)."""
        from google.cloud.firestore_v1.base_query import FieldFilter
        from google.cloud.firestore_v1.field_path import FieldPath

        collection = self.db.collection(USERS, uid, ACCOUNTS, open_id, ANALYTICS)
        low = collection.document(first.isoformat())
        high = collection.document(last.isoformat())
        query = (
            collection.where(filter=FieldFilter(FieldPath.document_id(), ">=", low))
            .where(filter=FieldFilter(FieldPath.document_id(), "<=", high))
            .order_by(FieldPath.document_id())
        )
        for snapshot in query.stream():
            data = snapshot.to_dict() or {}
            if data.get("expire_at") is None or data["expire_at"] > now:
                yield data

    def latest(self, uid: str, open_id: str, now: datetime) -> dict[str, Any] | None:
        """The account's newest snapshot, or None when it has none (or only expired ones, which
        are older than any live one, so the newest alone decides). Ordered by the ``date`` field,
        which equals the id: Firestore's automatic single-field index serves it descending, where
        a descending scan of document ids is refused."""
        from google.cloud import firestore

        collection = self.db.collection(USERS, uid, ACCOUNTS, open_id, ANALYTICS)
        query = collection.order_by("date", direction=firestore.Query.DESCENDING).limit(1)
        for snapshot in query.stream():
            data = snapshot.to_dict() or {}
            if data.get("expire_at") is None or data["expire_at"] > now:
                return data
        return None

    def delete_all(self, uid: str, open_id: str) -> int:
        """Delete every snapshot of the account (collection turned off, disconnect)."""
        collection = self.db.collection(USERS, uid, ACCOUNTS, open_id, ANALYTICS)
        return int(self.db.recursive_delete(collection))

    def take_calls(
        self,
        uid: str,
        open_id: str,
        calls: int,
        now: datetime,
        limit: int,
        window: float,
        *,
        claim: str | None = None,
    ) -> str:
        """Reserve ``calls`` Display API calls in the token's sliding window: ``"ok"``, or
        ``"no_budget"`` when fewer are left (or the transaction lost to contention).

        With ``claim`` (the day a snapshot is for), the same transaction claims that day for
        :data:`CLAIM_SECONDS`: a second snapshot of the day started meanwhile gets ``"claimed"``
        and calls TikTok not at all. A claim whose holder died expires, so a redelivery retries.
        """
        from google.api_core import exceptions
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, POLL_BUDGETS).document(f"{open_id}.display")
        stamp = now.timestamp()
        horizon = stamp - window

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> str:
            data = ref.get(transaction=transaction).to_dict() or {}
            if (
                claim is not None
                and data.get("claim") == claim
                and data.get("claimed_at", 0) > stamp - CLAIM_SECONDS
            ):
                return "claimed"
            made = [t for t in data.get("calls", []) if t > horizon]
            if len(made) + calls > limit:
                return "no_budget"
            made.extend([stamp] * calls)
            doc: dict[str, Any] = {
                "calls": made,
                "expire_at": now + timedelta(seconds=max(window, CLAIM_SECONDS) * 2),
            }
            if claim is not None:
                doc.update(claim=claim, claimed_at=stamp)
            elif "claim" in data:
                doc.update(claim=data["claim"], claimed_at=data.get("claimed_at", 0))
            transaction.set(ref, doc)
            return "ok"

        try:
            answer: str = take(self.db.transaction())
        except (exceptions.Aborted, exceptions.DeadlineExceeded, ValueError):
            return "no_budget"
        return answer
