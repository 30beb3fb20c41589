"""Every composite query the code runs has its index declared in firestore.indexes.json.

The Firestore emulator runs any query without an index, so a missing one would first fail in
production. Each query is built by the same function the code calls, turned into the
StructuredQuery sent to Firestore, and the composite index it needs derived from that: equality
fields first, then the ordered (range) fields, ``__name__`` left out (every index ends with it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from shared.store.accounts import AccountStore
from shared.store.scheduled import ScheduleStore
from shared.store.status import StatusStore
from shared.tokens.scheduler import due_queries

ROOT = Path(__file__).resolve().parents[2]
EQUALITY = {"EQUAL", "ARRAY_CONTAINS", "IN"}  # an IN filter is indexed like equality


def declared() -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    config = json.loads((ROOT / "firestore.indexes.json").read_text())
    return {
        (
            index["collectionGroup"],
            index.get("queryScope", "COLLECTION"),
            tuple((f["fieldPath"], f.get("order", "ASCENDING")) for f in index["fields"]),
        )
        for index in config["indexes"]
    }


def _filters(where: Any) -> list[Any]:
    if "composite_filter" in where:
        return [f.field_filter for f in where.composite_filter.filters]
    return [where.field_filter] if "field_filter" in where else []


def needed_index(query: Any) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """The composite index a query needs, or None when single-field indexes serve it."""
    proto = query._to_protobuf()
    source = proto.from_[0]
    scope = "COLLECTION_GROUP" if source.all_descendants else "COLLECTION"
    filters = _filters(proto.where) if "where" in proto else []
    equal = [f.field.field_path for f in filters if f.op.name in EQUALITY]
    ordered = [
        (o.field.field_path, o.direction.name)
        for o in proto.order_by
        if o.field.field_path != "__name__"
    ]
    fields = tuple((name, "ASCENDING") for name in equal) + tuple(ordered)
    if len(fields) < 2 and scope == "COLLECTION":
        return None
    return source.collection_id, scope, fields


def queries_the_code_runs() -> list[Any]:
    # google.auth's credentials are unannotated
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    db = firestore.Client(project="demo-indexes", credentials=credentials)
    now = datetime.now(UTC)
    status = StatusStore(db)
    accounts = AccountStore(db)
    return [
        *due_queries(accounts, now),
        accounts.active_query(),
        status.due_posts_query(now, 10),
        ScheduleStore(db).due_query(now),
        ScheduleStore(db).account_due_query("uid", "open-id", now),
        status.accounts_query("open-id"),
        status.history_query("uid", 10, None),
        status.history_query("uid", 10, None, status="FAILED"),
        status.history_query("uid", 10, None, open_id="open-id"),
        status.history_query("uid", 10, None, status="FAILED", open_id="open-id"),
    ]


def single_field_overrides() -> set[tuple[str, str, str]]:
    """(group, field, scope) of single-field indexes declared as fieldOverrides."""
    config = json.loads((ROOT / "firestore.indexes.json").read_text())
    return {
        (o["collectionGroup"], o["fieldPath"], index.get("queryScope", "COLLECTION"))
        for o in config["fieldOverrides"]
        for index in o.get("indexes", [])
    }


@pytest.mark.parametrize("query", queries_the_code_runs(), ids=lambda q: str(needed_index(q)))
def test_each_query_has_its_index_declared(query: Any) -> None:
    needed = needed_index(query)
    if needed is not None and len(needed[2]) == 1:
        # One field on a collection group: a single-field index exemption, not a composite one.
        group, scope, ((field, _),) = needed
        assert (group, field, scope) in single_field_overrides(), f"add a fieldOverride: {needed}"
        return
    assert needed is None or needed in declared(), f"add to firestore.indexes.json: {needed}"


def test_the_due_query_needs_a_composite_collection_group_index() -> None:
    # Guards the derivation above: a due query does need one, so the check is not vacuous.
    assert needed_index(queries_the_code_runs()[0]) == (
        "accounts",
        "COLLECTION_GROUP",
        (("status", "ASCENDING"), ("access_expires_at", "ASCENDING")),
    )


def test_a_filtered_history_query_needs_a_composite_index() -> None:
    # Guards the derivation: filtering by status and account needs the three-field index.
    assert needed_index(queries_the_code_runs()[-1]) == (
        "posts",
        "COLLECTION",
        (("open_id", "ASCENDING"), ("status", "ASCENDING"), ("created_at", "DESCENDING")),
    )
