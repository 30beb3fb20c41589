"""Seed connected TikTok accounts straight into Firestore, fast: for benchmarks and tests.

Accounts come from the fake TikTok's ``POST /_control/grants`` (users already authorized, with
live tokens), so refreshing them at the fake works. Tokens are encrypted through one
:class:`~shared.crypto.vault.Vault`, so thousands of accounts cost a single KMS call, and written in
batches of 500 (Firestore's limit per batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from shared.crypto.vault import Vault, field_context
from shared.store.accounts import ACTIVE, Account, account_path

BATCH_WRITES = 500


def fake_grants(tiktok_url: str, count: int) -> list[dict[str, Any]]:
    """``count`` authorized users at the fake TikTok and their token answers."""
    response = httpx.post(f"{tiktok_url}/_control/grants", json={"count": count}, timeout=120)
    response.raise_for_status()
    grants: list[dict[str, Any]] = response.json()["grants"]
    return grants


def seed_accounts(
    db: Any,
    vault: Vault,
    grants: Sequence[dict[str, Any]],
    *,
    now: datetime,
    access_expires_in: timedelta,
    users: int = 100,
) -> list[Account]:
    """Store one account per grant (spread over ``users`` users), its access token expiring in
    ``access_expires_in`` (negative: already expired); the refresh token keeps the fake's lifetime.
    """
    accounts = []
    batch = db.batch()
    for index, grant in enumerate(grants):
        uid = f"seed-user-{index % users}"
        path = account_path(uid, grant["open_id"])
        account = Account(
            uid=uid,
            open_id=grant["open_id"],
            profile={"display_name": f"Seeded {index}"},
            scopes=tuple(grant["scope"].split(",")),
            status=ACTIVE,
            status_reason=None,
            access_expires_at=now + access_expires_in,
            refresh_expires_at=now + timedelta(seconds=grant["refresh_expires_in"]),
            connected_at=now,
            updated_at=now,
            access_token_enc=vault.encrypt(
                grant["access_token"], context=field_context(path, "access_token")
            ),
            refresh_token_enc=vault.encrypt(
                grant["refresh_token"], context=field_context(path, "refresh_token")
            ),
        )
        batch.set(db.document(path), account.to_doc())
        accounts.append(account)
        if len(accounts) % BATCH_WRITES == 0:
            batch.commit()
            batch = db.batch()
    if len(accounts) % BATCH_WRITES:
        batch.commit()
    return accounts
