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
