"""Leases in Firestore: at most one holder of a key at a time across every instance.

A lease is the document ``leases/{key}`` holding ``holder``, ``subject`` (what it guards, for
people reading the collection), ``acquired_at`` and ``expire_at`` (a TTL policy on ``expire_at``
deletes leftovers; every read here treats an expired lease as free).

Acquiring is a ``create``, which fails when the document exists. Taking over an expired lease is an
``update`` with a precondition on the document's ``update_time`` as it was read, so of two
instances racing for the same expired lease exactly one write succeeds. Both are single-document
writes with preconditions, never a contended transaction: the Firestore emulator fails contended
transactions on one document with "Transaction lock timeout", and optimistic preconditions give
the same guarantee on both the emulator and Firestore. Releasing deletes the document only if it is
still the version this holder wrote, so a holder whose lease expired and was taken over cannot
release its successor's lease.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from shared.store.documents import LeaseDoc, to_firestore

if TYPE_CHECKING:
    from google.cloud import firestore

LEASES = "leases"


def lease_key(kind: str, subject: str) -> str:
    """A document id for a lease on ``subject`` (any path): ids may not contain ``/``."""
    return f"{kind}-{hashlib.sha256(subject.encode()).hexdigest()[:40]}"


@dataclass(frozen=True)
class Lease:
    """A lease this holder owns; ``version`` is the document's update time it wrote."""

    key: str
    holder: str
    expire_at: datetime
    version: Any


class Leases:
    """Acquire, take over and release leases in the ``leases`` collection."""

    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def acquire(
        self, key: str, *, holder: str, subject: str, ttl: timedelta, now: datetime
    ) -> Lease | None:
        """The lease, or None while another holder's unexpired lease stands."""
        from google.api_core import exceptions as gexc

        ref = self.db.collection(LEASES).document(key)
        expire_at = now + ttl
        doc: LeaseDoc = {
            "holder": holder,
            "subject": subject,
            "acquired_at": now,
            "expire_at": expire_at,
        }
        for _ in range(3):  # A lease released between our create and read: try again.
            try:
                result = ref.create(to_firestore(doc))
                return Lease(key, holder, expire_at, result.update_time)
            except (gexc.AlreadyExists, gexc.Conflict):
                pass
            snapshot = ref.get()
            if not snapshot.exists:
                continue
            current = cast("LeaseDoc | None", snapshot.to_dict())
            if current is not None and current["expire_at"] > now:
                return None
            # Expired: its holder died or stalled. Only the writer that read this version wins.
            try:
                option = self.db.write_option(last_update_time=snapshot.update_time)
                result = ref.update(to_firestore(doc), option=option)
            except (gexc.FailedPrecondition, gexc.NotFound, gexc.Aborted):
                return None
            return Lease(key, holder, expire_at, result.update_time)
        return None

    def release(self, lease: Lease) -> None:
        """Delete the lease if it is still the version this holder wrote; else leave it."""
        from google.api_core import exceptions as gexc

        ref = self.db.collection(LEASES).document(lease.key)
        # Taken over after expiring, or already gone: then it is not ours to delete.
        with contextlib.suppress(gexc.FailedPrecondition, gexc.NotFound, gexc.Aborted):
            ref.delete(option=self.db.write_option(last_update_time=lease.version))

    def holder(self, key: str, now: datetime) -> str | None:
        """Who holds ``key`` now, or None when it is free (absent or expired)."""
        data = cast("LeaseDoc | None", self.db.collection(LEASES).document(key).get().to_dict())
        if data is None or data["expire_at"] <= now:
            return None
        return data["holder"]
