"""Query building shared by the stores."""

from __future__ import annotations

from typing import Any


def where(query: Any, field: str, op: str, value: Any) -> Any:
    """``query`` narrowed to documents whose ``field`` compares ``op`` to ``value``."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    return query.where(filter=FieldFilter(field, op, value))
