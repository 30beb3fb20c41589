"""The user's TikTok videos: ``GET …/videos?cursor=`` and ``POST …/videos/query`` (promise P12).

Both read TikTok's Display API with the account's token (scope ``video.list``). An account that
did not grant the scope gets a clear FAILED_PRECONDITION before TikTok is called; cover URLs live
six hours, so the frontend re-queries ids to refresh them (docs/tiktok-api.md §2.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared import errors
from shared.accounts.service import call_tiktok, get_account
from shared.tiktok.models import MAX_COUNT
from shared.web.fields import reject_unknown

if TYPE_CHECKING:
    from shared.crypto.vault import Vault
    from shared.store.accounts import Account, AccountStore
    from shared.tiktok.client import TikTokClient

SCOPE = "video.list"
_MAX_CURSOR = 2**63 - 1


def parse_cursor(raw: str | None) -> int | None:
    """``?cursor=`` as TikTok's int64 Unix milliseconds, or None for the first page."""
    if raw is None or raw == "":
        return None
    # isdigit() alone admits "²" and other digits int() refuses; 19 digits hold any int64.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or int(raw) > _MAX_CURSOR:
        raise errors.InvalidArgument(
            "cursor must be the next_cursor of a previous page (Unix milliseconds)",
            reason="request.cursor",
        )
    return int(raw)


def parse_ids(body: dict[str, Any]) -> list[str]:
    reject_unknown(body, ("ids",))
    ids = body.get("ids")
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= MAX_COUNT
        or not all(isinstance(i, str) and i.isascii() and i.isdigit() and len(i) <= 32 for i in ids)
    ):
        raise errors.InvalidArgument(
            f"ids must be a list of 1 to {MAX_COUNT} video ids (digit strings)",
            reason="request.ids",
        )
    return list(dict.fromkeys(ids))


def _account(store: AccountStore, uid: str, open_id: str) -> Account:
    """The user's account, if it granted the scope the video routes need."""
    account = get_account(store, uid, open_id)
    if SCOPE not in account.scopes:
        raise errors.FailedPrecondition(
            "this TikTok account did not grant video.list; reconnect it and allow access to "
            "your videos",
            reason="account.scope_missing",
        )
    return account


def list_videos(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    open_id: str,
    cursor: int | None,
    now: datetime,
) -> dict[str, Any]:
    """One page of the account's public videos, newest first, and the cursor of the next."""
    account = _account(store, uid, open_id)
    page = call_tiktok(
        store,
        vault,
        tiktok,
        account,
        lambda token: tiktok.video_list(token, cursor=cursor, max_count=MAX_COUNT),
        now=now,
    )
    next_cursor = str(page["cursor"]) if page["has_more"] and page["cursor"] is not None else None
    return {"videos": page["videos"], "has_more": page["has_more"], "next_cursor": next_cursor}


def query_videos(
    store: AccountStore,
    vault: Vault,
    tiktok: TikTokClient,
    *,
    uid: str,
    open_id: str,
    ids: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """Fresh details of up to 20 of the account's videos (TikTok checks they are the user's)."""
    account = _account(store, uid, open_id)
    videos = call_tiktok(
        store, vault, tiktok, account, lambda token: tiktok.video_query(token, ids), now=now
    )
    return {"videos": videos}
