"""``return_to`` is always a path on the app's own origin: no open redirect."""

from __future__ import annotations

import pytest

from shared.accounts.connect import safe_return_path, state_hash
from shared.errors import InvalidArgument


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, "/"), ("", "/"), ("/accounts", "/accounts"), ("/a?b=c", "/a?b=c")],
)
def test_same_origin_paths_are_kept(raw: str | None, expected: str) -> None:
    assert safe_return_path(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "accounts",
        "/a\nb",
        "/" + "a" * 600,
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument, match="return_to must be a path"):
        safe_return_path(raw)


def test_state_is_stored_only_as_its_hash() -> None:
    digest = state_hash("some-state")
    assert len(digest) == 64
    assert "some-state" not in digest
