"""The user's data rights: export everything stored about them, and delete all of it.

Everything the backend stores about a user lives under ``users/{uid}`` (the profile, connected
accounts, posts, drafts and any later subcollection) or in a top-level collection whose documents
name the user (:data:`RELATED`). Both operations walk exactly that, so a new subcollection is
exported and deleted without a change here. Ciphertext fields (``*_enc``: tokens, upload URLs)
are never exported.

Export is streamed page by page (JSON, or a zip of one CSV per collection), so a user with tens
of thousands of posts costs the instance a page of memory, not the whole history. Deletion revokes
every TikTok connection first, then deletes, and can be repeated until it completes.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.accounts.service import REVOKE_FAILED, REVOKED_NOW
from shared.store.accounts import ACCOUNTS, AccountStore
from shared.store.analytics import ANALYTICS
from shared.store.outbox import OUTBOX
from shared.store.sessions import revoke_all_sessions
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

    from shared.crypto.vault import Vault
    from shared.tiktok.client import TikTokClient

log = logging.getLogger(__name__)

PAGE = 500
NESTED_UNDER_ACCOUNTS = (ANALYTICS,)


@dataclass(frozen=True)
class Related:
    """A top-level collection whose documents belong to a user, and how to find theirs."""

    collection: str
    query: Callable[[firestore.Client, str], Any]
    order: tuple[str, ...] = ()  # Range-filtered fields must lead the ordering.


def _where(query: Any, field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return query.where(filter=FieldFilter(field, op, value))


def _by_uid(collection: str) -> Related:
    return Related(collection, lambda db, uid: _where(db.collection(collection), "uid", "==", uid))


def _leases(db: firestore.Client, uid: str) -> Any:
    # A lease's subject is the path of what it guards, e.g. users/{uid}/accounts/{open_id}.
    prefix = f"{USERS}/{uid}/"
    at_least = _where(db.collection("leases"), "subject", ">=", prefix)
    return _where(at_least, "subject", "<", prefix + "\uf8ff")


def _events(db: firestore.Client, uid: str) -> Any:
    # The user's events not yet expired; the events announcing the deletion itself are not the
    # user's data to delete but the operator's notice of it (shared/store/outbox.py).
    return _where(_where(db.collection(OUTBOX), "uid", "==", uid), "purge_with_user", "==", True)


RELATED = (
    _by_uid("oauth_states"),
    _by_uid("idempotency"),
    _by_uid("publish_ids"),
    Related("leases", _leases, order=("subject",)),
    Related(OUTBOX, _events),
)


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


def _record(snapshot: Any) -> dict[str, Any]:
    data = snapshot.to_dict() or {}
    fields = {k: _plain(v) for k, v in sorted(data.items()) if not k.endswith("_enc")}
    return {"id": snapshot.id, **fields}


def _paged(query: Any, order: tuple[str, ...] = ()) -> Iterator[Any]:
    """Every document of ``query``, a page at a time (ordered by ``order``, then document id)."""
    last = None
    for field in order:
        query = query.order_by(field)
    while True:
        page = query.order_by("__name__").limit(PAGE)
        if last is not None:
            page = page.start_after(last)
        docs = list(page.stream())
        yield from docs
        if len(docs) < PAGE:
            return
        last = docs[-1]


def _sections(db: firestore.Client, uid: str) -> Iterator[tuple[str, Callable[[], Iterator[Any]]]]:
    """(name, documents) for every collection that holds the user's data."""
    user_ref = db.collection(USERS).document(uid)
    yield "user", functools.partial(_existing, user_ref)
    for sub in sorted(user_ref.collections(), key=lambda c: c.id):
        yield sub.id, functools.partial(_paged, sub)
    # Collections under each account (its daily analytics), one section per collection name.
    for name in NESTED_UNDER_ACCOUNTS:
        yield name, functools.partial(_under_accounts, db, uid, name)
    for related in RELATED:
        yield related.collection, functools.partial(_paged, related.query(db, uid), related.order)


def _under_accounts(db: firestore.Client, uid: str, name: str) -> Iterator[Any]:
    """Every document of collection ``name`` under each of the user's accounts, a page at a time
    (an account already gone still has its documents listed, so nothing stored is missed)."""
    for account in db.collection(USERS, uid, ACCOUNTS).list_documents(page_size=PAGE):
        yield from _paged(account.collection(name))


def _existing(ref: Any) -> Iterator[Any]:
    snapshot = ref.get()
    if snapshot.exists:
        yield snapshot


def export_json(db: firestore.Client, uid: str, now: datetime) -> Iterator[bytes]:
    """``{"exported_at", "uid", "collections": {name: [records]}}``, streamed."""
    yield json.dumps({"exported_at": now.isoformat(), "uid": uid})[:-1].encode()
    yield b', "collections": {'
    for index, (name, documents) in enumerate(_sections(db, uid)):
        yield (", " if index else "").encode() + json.dumps(name).encode() + b": ["
        for count, snapshot in enumerate(documents()):
            yield (b", " if count else b"") + json.dumps(_record(snapshot)).encode()
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


def export_csv_zip(db: firestore.Client, uid: str, now: datetime) -> Iterator[bytes]:
    """A zip with one CSV per collection (nested values as JSON), streamed.

    Each collection is read twice, a page at a time: once for its columns, once for its rows,
    so memory stays flat however many documents there are.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, documents in _sections(db, uid):
            columns: dict[str, None] = {"id": None}
            for snapshot in documents():
                columns.update(dict.fromkeys(_record(snapshot)))
            with archive.open(f"{name}.csv", mode="w", force_zip64=True) as entry:
                text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
                writer = csv.DictWriter(text, fieldnames=list(columns))
                writer.writeheader()
                for snapshot in documents():
                    writer.writerow({k: _cell(v) for k, v in _record(snapshot).items()})
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
    db: firestore.Client,
    accounts: AccountStore,
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
    # Here, not at the top: shared.users.deletion builds on this module's collection table.
    from shared.users.deletion import (
        REQUEST_BUDGET,
        Budget,
        delete_documents,
        mark_deleting,
        stop_at_tiktok,
    )

    revoke_all_sessions(db, uid)  # First: no cookie of the user works while the rest runs.
    now = now or datetime.now(UTC)
    mark_deleting(db, uid, now)
    outcomes, cancelled = stop_at_tiktok(db, accounts, vault, tiktok, uid=uid, now=now)
    if delete_media is not None:  # Staged objects before the records that name them.
        delete_media(uid)
    deleted, complete = delete_documents(
        db, accounts, uid, Budget(REQUEST_BUDGET if budget_seconds is None else budget_seconds)
    )
    if complete:  # only the final sweep is left, once no request can still be in flight
        tomb = db.collection(USERS).document(uid)
        tomb.update({"deletion_due_at": (tomb.get().to_dict() or {})["deletion_sweep_after"]})
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
