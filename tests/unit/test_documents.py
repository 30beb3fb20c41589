"""The stored documents' types (shared/store/documents.py) say what the code writes: each
``...Changes`` type has its document's fields and types, the stored settings follow their one
declaration (shared/tiktok/settings.py), and what a new post or slot holds is exactly its type's
required fields."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from typing import Any, NotRequired

import pytest

from shared.publishing.chunks import plan_chunks
from shared.publishing.posts import new_post_doc, scheduled_fields
from shared.publishing.rules import parse_request
from shared.publishing.schedule import Schedule
from shared.store import documents
from shared.tiktok.settings import SETTINGS, PostSettings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _types(kind: Any) -> dict[str, Any]:
    """Each field's type, NotRequired taken off (mypy's view of a value once present)."""
    hints = typing.get_type_hints(kind, include_extras=True)
    return {
        name: typing.get_args(tp)[0] if typing.get_origin(tp) is NotRequired else tp
        for name, tp in hints.items()
    }


@pytest.mark.parametrize(
    ("doc", "changes"),
    [
        (documents.PostDoc, documents.PostChanges),
        (documents.SlotDoc, documents.SlotChanges),
    ],
)
def test_a_documents_changes_have_its_fields_and_types_all_optional(doc: Any, changes: Any) -> None:
    assert _types(changes) == _types(doc)
    assert changes.__required_keys__ == frozenset()


@pytest.mark.parametrize(
    ("doc", "changes"),
    [
        (documents.IdempotencyDoc, documents.IdempotencyChanges),
        (documents.ReceiptDoc, documents.ReceiptChanges),
    ],
)
def test_partial_changes_name_only_their_documents_fields(doc: Any, changes: Any) -> None:
    whole = _types(doc)
    assert {name: whole[name] for name in _types(changes)} == _types(changes)


def test_the_stored_settings_are_the_declared_settings_with_their_types() -> None:
    declared = typing.get_type_hints(PostSettings)
    assert tuple(_types(documents.PostSettingsDoc)) == SETTINGS
    assert _types(documents.PostSettingsDoc) == {
        f.name: declared[f.name] for f in dataclasses.fields(PostSettings)
    }
    assert set(SETTINGS) <= documents.PostDoc.__required_keys__


def _request(media: dict[str, Any]) -> Any:
    return parse_request(
        {
            "open_id": "o1",
            "mode": "direct",
            "media": media,
            "post": {"title": "t", "privacy_level": "SELF_ONLY"},
            "duration_sec": 5,
        }
    )


@pytest.mark.parametrize(
    "media",
    [
        {"type": "video", "source": "url", "url": "https://media.example.com/v.mp4"},
        {"type": "video", "source": "file", "size": 12_000_000},
        {"type": "photo", "urls": ["https://media.example.com/a.jpg"], "cover_index": 0},
    ],
)
def test_a_new_post_holds_exactly_the_required_fields(media: dict[str, Any]) -> None:
    request = _request(media)
    plan = plan_chunks(request.media.size).public() if request.media.size else None
    doc = new_post_doc(
        "u1",
        "p1",
        request,
        plan=plan,
        draft_id=None,
        idempotency_id=None,
        status_check_at=NOW,
        now=NOW,
    )
    assert set(doc) == documents.PostDoc.__required_keys__
    types = _types(documents.PostDoc)
    for name, value in doc.items():
        assert _holds(types[name], value), (name, value)


def test_a_schedule_adds_only_optional_fields_of_a_post() -> None:
    fields = scheduled_fields(Schedule(NOW, "Europe/Berlin"), NOW)
    assert set(fields) - documents.PostDoc.__optional_keys__ == {"status", "status_check_at"}


def _holds(tp: Any, value: Any) -> bool:
    """``value`` is of type ``tp`` (the simple types documents use)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, __import__("types").UnionType):
        return any(_holds(arg, value) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_holds(item, v) for v in value)
    if typing.is_typeddict(tp):
        return isinstance(value, dict) and set(value) == tp.__required_keys__
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)
