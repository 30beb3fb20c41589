"""The re-wrap job: after a KMS key rotation, move every stored ciphertext to the primary version.

Rotation alone needs no job (old values keep decrypting); this one lets old key versions be
disabled and destroyed. It pages through each collection group holding vault-encrypted fields in
document-path order, so memory stays flat and a run can resume from the cursor it reports. The
new values are computed outside any transaction (KMS calls are slow), then written in a Firestore
transaction that re-reads the document and writes only if every stored value is still the one that
was re-wrapped: a token refresh that landed in between wins, and is counted as a conflict.

``python -m shared.crypto.rewrap [--page-size N] [--start-after CURSOR]`` runs it with the
environment.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any

from shared import logs
from shared.config import Settings
from shared.crypto.fields import ENCRYPTED_FIELDS, context
from shared.crypto.vault import Vault, VaultError, make_kms_client
from shared.store.ciphertexts import Ciphertexts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RewrapReport:
    """What one run did. ``cursor`` resumes after the last document scanned (None: none)."""

    scanned: int = 0
    rewrapped: int = 0
    skipped_current: int = 0
    conflicts: int = 0
    failed: int = 0
    cursor: str | None = None


def rewrap_all(
    store: Ciphertexts,
    vault: Vault,
    *,
    page_size: int = 200,
    start_after: str | None = None,
    max_documents: int | None = None,
) -> RewrapReport:
    """Re-wrap every value not under the primary key version; resumable from ``start_after``.

    A cursor is ``<collection group>:<document path>``. ``max_documents`` stops early (a run
    bounded to fit a deadline); the report's cursor then resumes where it stopped.
    """
    counts = {"scanned": 0, "rewrapped": 0, "skipped_current": 0, "conflicts": 0, "failed": 0}
    cursor = start_after
    groups = list(ENCRYPTED_FIELDS)
    first_group, after_path = _parse_cursor(start_after, groups)
    for group in groups[groups.index(first_group) :]:
        after = after_path if group == first_group else None
        while True:
            if max_documents is not None and counts["scanned"] >= max_documents:
                return RewrapReport(**counts, cursor=cursor)
            limit = page_size
            if max_documents is not None:
                limit = min(page_size, max_documents - counts["scanned"])
            page = store.page(group, list(ENCRYPTED_FIELDS[group]), after, limit)
            for path, data in page:
                counts[_rewrap_document(store, vault, group, path, data)] += 1
                counts["scanned"] += 1
                after = path
                cursor = f"{group}:{after}"
            log.info("rewrap progress", extra={"rewrap_cursor": cursor, **counts})
            if len(page) < limit:
                break
    return RewrapReport(**counts, cursor=cursor)


def _parse_cursor(cursor: str | None, groups: list[str]) -> tuple[str, str | None]:
    if not cursor:
        return groups[0], None
    group, sep, path = cursor.partition(":")
    if not sep or group not in groups or not path:
        raise ValueError("a rewrap cursor looks like '<collection group>:<document path>'")
    return group, path


def _rewrap_document(
    store: Ciphertexts, vault: Vault, group: str, path: str, data: dict[str, Any]
) -> str:
    """Rewrap one document's values; return the counter it adds to."""
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    try:
        for stored_field, context_field in ENCRYPTED_FIELDS[group].items():
            stored = data.get(stored_field)
            if not isinstance(stored, str):
                continue
            moved = vault.rewrap(stored, context=context(path, context_field))
            if moved is not None:
                old[stored_field], new[stored_field] = stored, moved
    except VaultError as exc:
        # One unreadable value must not stop the job; the path and reason are safe to log.
        log.warning("rewrap skipped a document", extra={"doc": path, "reason": exc.reason})
        return "failed"
    if not new:
        return "skipped_current"
    return "rewrapped" if store.replace_if_unchanged(path, old, new) else "conflicts"


def main(argv: list[str] | None = None) -> int:
    from shared.store.client import make_client

    parser = argparse.ArgumentParser(description="Re-wrap stored ciphertexts to the primary key.")
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--start-after", default=None, help="a cursor from an earlier run")
    parser.add_argument("--max-documents", type=int, default=None)
    args = parser.parse_args(argv)

    logs.configure()
    settings = Settings.from_env(os.environ)
    # The functions' own client (shared/store/client.py): every call bounded in time, so an
    # unreachable Firestore stops the job in seconds instead of minutes of retries.
    store = Ciphertexts(make_client(settings.project_id))
    vault = Vault(make_kms_client(settings.kms_emulator_host), settings.kms_key_name)
    report = rewrap_all(
        store,
        vault,
        page_size=args.page_size,
        start_after=args.start_after,
        max_documents=args.max_documents,
    )
    print(json.dumps(asdict(report)), file=sys.stdout, flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
