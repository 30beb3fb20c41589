"""An Idempotency-Key whose first request released it (nothing reached TikTok) between a second
request's claim and its read of the record: the second is told to retry, not that the key was
used for a different request (there is no other request; a retry claims the key afresh)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core import exceptions

from shared import errors
from shared.publishing import publish
from shared.store.posts import PostStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class _Released:
    """The key's record as the race leaves it: it existed at create(), and is gone at get()."""

    def create(self, doc: dict[str, Any]) -> None:
        # google.api_core's exception constructors are unannotated
        raise exceptions.AlreadyExists("the first request holds the key")  # type: ignore[no-untyped-call]

    def get(self) -> Any:
        return SimpleNamespace(exists=False, to_dict=lambda: None)


class _Db:
    def collection(self, *path: str) -> Any:
        return SimpleNamespace(document=lambda doc_id: _Released())


def test_a_key_released_between_claim_and_read_answers_retry_not_key_reused() -> None:
    posts = PostStore(_Db())  # type: ignore[arg-type]
    p = SimpleNamespace(posts=posts)
    with pytest.raises(errors.AppError) as raised:
        publish._claim_key(p, "u1", "key-1", {"open_id": "o1"}, NOW)  # type: ignore[arg-type]
    assert raised.value.reason == "idempotency.in_progress"
    assert isinstance(raised.value, errors.Aborted)
