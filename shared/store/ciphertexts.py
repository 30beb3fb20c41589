"""The vault-encrypted fields of every document, read by path order and replaced only if unchanged
(for the re-wrap job, shared/crypto/rewrap.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from google.cloud import firestore


class Ciphertexts:
    def __init__(self, db: firestore.Client) -> None:
        self.db = db

    def page(
        self, group: str, fields: list[str], after: str | None, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``limit`` (path, ``fields`` of it) of collection group ``group``, in document
        path order, starting after the document at path ``after``."""
        query = self.db.collection_group(group).select(fields).order_by("__name__").limit(limit)
        if after:
            query = query.start_after({"__name__": self.db.document(after)})
        return [(s.reference.path, s.to_dict() or {}) for s in query.stream()]

    def replace_if_unchanged(self, path: str, old: dict[str, str], new: dict[str, str]) -> bool:
        """Write ``new`` over the document's fields only if each still holds its ``old`` value
        (read again in a transaction): a write that landed in between wins; whether this did."""
        from google.cloud import firestore

        ref = self.db.document(path)

        @firestore.transactional
        def write(transaction: Any) -> bool:
            current = ref.get(field_paths=list(old), transaction=transaction)
            values = (current.to_dict() or {}) if current.exists else None
            if values is None or any(values.get(f) != stored for f, stored in old.items()):
                return False
            transaction.update(ref, new)
            return True

        result: bool = write(self.db.transaction())
        return result
