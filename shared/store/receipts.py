"""Webhook receipts: ``webhook_events/{sha256 of the raw body}``, one per processed delivery
(``state`` processing|done, ``expire_at`` 80 hours: TikTok retries for 72; a TTL policy deletes
it), so a delivery TikTok sends again is processed once (shared/status/webhooks.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from shared.store.documents import ReceiptChanges, ReceiptDoc, ReceiptFields, to_firestore

if TYPE_CHECKING:
    from google.cloud import firestore

WEBHOOK_EVENTS = "webhook_events"
RECEIPT_TTL = timedelta(hours=80)


class Receipts:
    """The receipts, for the status store (shared/store/status.py) to inherit."""

    db: firestore.Client

    def claim_receipt(self, event_id: str, now: datetime, fields: ReceiptFields) -> bool:
        """Create the delivery's receipt; False when it exists (already processed or underway)."""
        from google.api_core import exceptions

        doc: ReceiptDoc = {
            "event": fields["event"],
            "create_time": fields["create_time"],
            "state": "processing",
            "received_at": now,
            "expire_at": now + RECEIPT_TTL,
        }
        try:
            self.db.collection(WEBHOOK_EVENTS).document(event_id).create(to_firestore(doc))
        except exceptions.AlreadyExists:
            return False
        return True

    def receipt(self, event_id: str) -> ReceiptDoc | None:
        ref = self.db.collection(WEBHOOK_EVENTS).document(event_id)
        return cast("ReceiptDoc | None", ref.get().to_dict())

    def finish_receipt(self, event_id: str, outcome: str, now: datetime) -> None:
        changes: ReceiptChanges = {"state": "done", "outcome": outcome, "done_at": now}
        self.db.collection(WEBHOOK_EVENTS).document(event_id).update(to_firestore(changes))

    def drop_receipt(self, event_id: str) -> None:
        """Forget a delivery that failed, so TikTok's retry is processed."""
        self.db.collection(WEBHOOK_EVENTS).document(event_id).delete()
