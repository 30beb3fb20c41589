"""The user's data rights: export everything stored about them, and delete all of it.

Everything the backend stores about a user lives under ``users/{uid}`` (the profile, connected
accounts, posts, drafts and any later subcollection) or in a top-level collection whose documents
name the user; shared/store/user_data.py walks exactly that for both operations, so a new
subcollection is exported and deleted without a change here. Ciphertext fields (``*_enc``: tokens,
upload URLs) are never exported.

Export is streamed page by page (JSON, or a zip of one CSV per collection), so a user with tens
of thousands of posts costs the instance a page of memory, not the whole history. Deletion revokes
every TikTok connection first, then deletes, and can be repeated until it completes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.accounts.service import REVOKE_FAILED, REVOKED_NOW
from shared.store.user_data import Budget, Record, UserData
from shared.users.deletion import REQUEST_BUDGET, mark_deleting, stop_at_tiktok

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.accounts import AccountStore
    from shared.store.posts import PostStore
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)


def _plain(value: Any) -> Any:
    """A Firestore value as JSON."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "path"):  # A DocumentReference.
        return str(value.path)
    if hasattr(value, "latitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    return value


def _record(record: Record) -> dict[str, Any]:
    doc_id, data = record
    fields = {k: _plain(v) for k, v in sorted(data.items()) if not k.endswith("_enc")}
    return {"id": doc_id, **fields}


def export_json(data: UserData, uid: str, now: datetime) -> Iterator[bytes]:
    """``{"exported_at", "uid", "collections": {name: [records]}}``, streamed."""
    yield json.dumps({"exported_at": now.isoformat(), "uid": uid})[:-1].encode()
    yield b', "collections": {'
    for index, (name, documents) in enumerate(data.sections(uid)):
        yield (", " if index else "").encode() + json.dumps(name).encode() + b": ["
        for count, record in enumerate(documents()):
            yield (b", " if count else b"") + json.dumps(_record(record)).encode()
        yield b"]"
    yield b"}}\n"


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are collected and handed out as they are produced."""

    def __init__(self) -> None:
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pending += data
        return len(data)

    def drain(self) -> bytes:
        out = bytes(self.pending)
        self.pending.clear()
        return out


def export_csv_zip(data: UserData, uid: str, now: datetime) -> Iterator[bytes]:
    """A zip with one CSV per collection (nested values as JSON), streamed.

    Each collection is read twice, a page at a time: once for its columns, once for its rows,
    so memory stays flat however many documents there are.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, documents in data.sections(uid):
            columns: dict[str, None] = {"id": None}
            for record in documents():
                columns.update(dict.fromkeys(_record(record)))
            with archive.open(f"{name}.csv", mode="w", force_zip64=True) as entry:
                text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
                writer = csv.DictWriter(text, fieldnames=list(columns))
                writer.writeheader()
                for record in documents():
                    writer.writerow({k: _cell(v) for k, v in _record(record).items()})
                    text.flush()
                    if len(sink.pending) >= 64 * 1024:
                        yield sink.drain()
                text.flush()
                text.detach()
            yield sink.drain()
    yield sink.drain()


# A spreadsheet opening the CSV runs a cell starting with one of these as a formula (OWASP, "CSV
# Injection": https://owasp.org/www-community/attacks/CSV_Injection); profile fields come from
# TikTok and Google, so they may. A leading single quote makes the tool show the text as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class DeletionReport:
    revoked: int
    revoke_failed: int
    deleted_documents: int
    complete: bool = True  # every document deleted now (else the scheduled job finishes)
    cancelled: int = 0  # unfinished publishes TikTok agreed to cancel
    # (open_id, what became of it at TikTok: "revoked", "not_needed" or "failed") per account
    accounts: tuple[tuple[str, str], ...] = ()


def delete_user_data(
    data: UserData,
    accounts: AccountStore,
    posts: PostStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    delete_auth_user: Callable[[str], None],
    now: datetime | None = None,
    budget_seconds: float | None = None,
    delete_media: Callable[[str], object] | None = None,
) -> DeletionReport:
    """Tombstone the user, stop their publishes and connections at TikTok, delete their documents
    within the request's budget, delete their sign-in; repeatable (shared/users/deletion.py says
    how in-flight requests and the rest of a large account are dealt with).

    A KMS outage stops the deletion before any document is deleted (so a retry can still revoke);
    TikTok refusing or failing a revoke or a cancel is logged and the deletion goes ahead.
    """
    data.revoke_sessions(uid)  # First: no cookie of the user works while the rest runs.
    now = now or datetime.now(UTC)
    mark_deleting(data, uid, now)
    outcomes, cancelled = stop_at_tiktok(accounts, posts, vault, tiktok, uid=uid)
    if delete_media is not None:  # Staged objects before the records that name them.
        delete_media(uid)
    budget = Budget(REQUEST_BUDGET if budget_seconds is None else budget_seconds)
    deleted, complete = data.delete(uid, budget)
    if complete:  # only the final sweep is left, once no request can still be in flight
        data.set_deletion_due(uid, data.sweep_after(uid))
    delete_auth_user(uid)
    log.info("user data deleted", extra={"uid": uid, "documents": deleted, "complete": complete})
    return DeletionReport(
        revoked=sum(1 for _, outcome in outcomes if outcome == REVOKED_NOW),
        revoke_failed=sum(1 for _, outcome in outcomes if outcome == REVOKE_FAILED),
        deleted_documents=deleted,
        complete=complete,
        cancelled=cancelled,
        accounts=outcomes,
    )
