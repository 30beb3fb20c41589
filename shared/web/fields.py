"""Field checks every JSON request body shares: a body names only fields its operation knows.

A field the operation does not know is refused, never dropped: ``"caption"`` sent for ``"title"``
would otherwise publish a post without its title. The error names the field's dotted path
(``post.caption``) in ``field`` and in the message, with the fields that object does take.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from shared import errors

UNKNOWN_FIELD = "request.unknown_field"


def reject_unknown(obj: Mapping[str, Any], known: Collection[str], path: str = "") -> None:
    """InvalidArgument naming the first key of ``obj`` that is not in ``known``."""
    for name in obj:
        if name not in known:
            field = f"{path}.{name}" if path else name
            where = path or "the body"
            raise errors.InvalidArgument(
                f"unknown field {field!r}: {where} takes only {', '.join(sorted(known))}",
                reason=UNKNOWN_FIELD,
                field=field,
            )


# Firestore refuses maps and arrays nested deeper than 20 levels and integers outside int64; a
# lone surrogate cannot be encoded as UTF-8 at all. Bodies are checked against these before any
# service sees them, so a value that could never be stored (a draft, a post) is a 400 naming it.
MAX_DEPTH = 20
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_values(value: object, path: str = "", depth: int = 0) -> None:
    """InvalidArgument naming the first value of a parsed JSON body this API cannot keep."""
    where = path or "the body"
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise errors.InvalidArgument(
                f"{where} nests objects or arrays more than {MAX_DEPTH} levels deep",
                reason="request.too_deep",
                field=path or None,
            )
        items = (
            ((f"{path}.{k}" if path else str(k), k, v) for k, v in value.items())
            if isinstance(value, dict)
            else ((f"{path}[{i}]", None, v) for i, v in enumerate(value))
        )
        for child, key, item in items:
            if key is not None:
                _check_text(key, child, "field name")
            check_values(item, child, depth + 1)
    elif isinstance(value, str):
        _check_text(value, path, "value")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise errors.InvalidArgument(
                f"{where} is outside the signed 64-bit range this API accepts",
                reason="request.integer_out_of_range",
                field=path or None,
            )
    elif isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise errors.InvalidArgument(
            f"{where} is too large a number", reason="request.number_out_of_range", field=path
        )


def _check_text(text: str, path: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # The path itself holds the surrogate when it is a key: name it escaped.
        shown = path.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise errors.InvalidArgument(
            f"the {what} at {shown or 'the body'} is not valid Unicode (it holds a lone surrogate)",
            reason="request.invalid_unicode",
            field=shown or None,
        ) from None
