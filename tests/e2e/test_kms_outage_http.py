"""A key service outage over real HTTP: a quick 503 that says when to retry, then service again.

The dev server's vault needs the fake KMS to unwrap a data key it has not seen (the account's
tokens were sealed by another instance); the fake refuses every call on command.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from emulator.kms.control import KmsControl
from emulator.seed import fake_grants
from emulator.stack import Stack
from shared import runtime
from shared.crypto.vault import Vault, field_context, make_kms_client
from shared.store.accounts import ACTIVE, Account, account_path
from tests.openapi import check_response
from tests.support import AuthEmulator, FakeTikTok, new_browser

pytestmark = pytest.mark.e2e


@pytest.fixture
def kms(devserver: Stack) -> Iterator[KmsControl]:
    control = KmsControl(devserver.env()["KMS_EMULATOR_HOST"])
    yield control
    control.refuse(False)
    control.close()


def test_a_kms_outage_answers_503_with_retry_after_within_seconds(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok, kms: KmsControl
) -> None:
    browser = new_browser(devserver, auth_emulator, "kim@example.com")
    uid = browser.get("/api/session").json()["user"]["uid"]
    [grant] = fake_grants(fake_tiktok.base_url, 1)
    env = devserver.env()
    other_instance = Vault(make_kms_client(env["KMS_EMULATOR_HOST"]), env["KMS_KEY_NAME"])
    path = account_path(uid, grant["open_id"])
    now = datetime.now(UTC)
    account = Account(
        uid=uid,
        open_id=grant["open_id"],
        profile={"display_name": "Kim"},
        scopes=tuple(grant["scope"].split(",")),
        status=ACTIVE,
        status_reason=None,
        access_expires_at=now + timedelta(hours=2),
        refresh_expires_at=now + timedelta(seconds=grant["refresh_expires_in"]),
        connected_at=now,
        updated_at=now,
        access_token_enc=other_instance.encrypt(
            grant["access_token"], context=field_context(path, "access_token")
        ),
        refresh_token_enc=other_instance.encrypt(
            grant["refresh_token"], context=field_context(path, "refresh_token")
        ),
    )
    runtime.account_store().save(account)
    route = f"/api/tiktok/accounts/{grant['open_id']}/creator-info"

    kms.refuse(True)
    started = time.monotonic()
    refused = browser.get(route)
    elapsed = time.monotonic() - started
    kms.refuse(False)

    assert refused.status_code == 503, refused.text
    check_response("GET", "/api/tiktok/accounts/{open_id}/creator-info", refused)
    assert refused.json()["error"]["reason"] == "kms.unavailable"
    assert refused.headers["Retry-After"] == "5"
    assert elapsed < 4.5  # a couple of seconds of KMS retries, not ten
    again = browser.get(route)
    assert again.status_code == 200, again.text
