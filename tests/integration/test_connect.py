"""The connect service against the Firestore emulator and the fake KMS, TikTok at the transport.

What the e2e tests cannot force from outside: a KMS outage in the middle of a callback leaves no
half-written account.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytest_httpx import HTTPXMock

from emulator.kms.control import KmsControl
from emulator.stack import Stack
from shared import runtime
from shared.accounts.connect import finish_connect, start_connect
from shared.crypto.vault import Vault, make_kms_client
from shared.store.accounts import AccountStore
from shared.tiktok.client import TikTokClient, make_http_client
from shared.tiktok.models import LoginKit

pytestmark = [
    pytest.mark.emulators,
    pytest.mark.httpx_mock(should_mock=lambda request: request.url.host == "open.tiktokapis.com"),
]

API = "https://open.tiktokapis.com"


@pytest.fixture
def kms_stack(clean: Stack) -> Stack:
    if "kms" not in clean.children:
        clean.start(["kms"])
    return clean


@pytest.fixture
def tiktok() -> TikTokClient:
    return TikTokClient(
        make_http_client(API),
        client_key="ck",
        client_secret="client-secret-for-tests",
        redirect_uri="https://app.example.com/api/tiktok/callback",
        auth_url="https://www.tiktok.com/v2/auth/authorize/",
        sleep=lambda _: None,
    )


def test_kms_outage_during_callback_stores_nothing(
    kms_stack: Stack, tiktok: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    store = AccountStore(runtime.firestore_client())
    now = datetime.now(UTC)
    login = LoginKit(
        "https://www.tiktok.com/v2/auth/authorize/",
        "ck",
        "https://app.example.com/api/tiktok/callback",
    )
    url = start_connect(
        store, login, uid="u1", return_to="/accounts", scopes=("user.info.basic",), now=now
    )
    state = parse_qs(urlsplit(url).query)["state"][0]
    httpx_mock.add_response(
        url=f"{API}/v2/oauth/token/",
        json={
            "access_token": "act.outage-test-access",
            "expires_in": 86400,
            "open_id": "open-1",
            "refresh_expires_in": 31536000,
            "refresh_token": "rft.outage-test-refresh",
            "scope": "user.info.basic",
            "token_type": "Bearer",
        },
    )
    httpx_mock.add_response(
        url=httpx.URL(
            f"{API}/v2/user/info/",
            params={
                "fields": "open_id,union_id,avatar_url,avatar_url_100,avatar_large_url,display_name"
            },
        ),
        json={
            "data": {"user": {"open_id": "open-1", "display_name": "Casey"}},
            "error": {"code": "ok", "message": "", "log_id": "L"},
        },
    )
    host = kms_stack.env()["KMS_EMULATOR_HOST"]
    control = KmsControl(host)
    control.refuse(True)
    try:
        vault = Vault(make_kms_client(host), kms_stack.env()["KMS_KEY_NAME"], kms_timeout=2)
        outcome = finish_connect(
            store, vault, tiktok, uid="u1", params={"code": "c", "state": state}, now=now
        )
    finally:
        control.refuse(False)
    assert outcome.error == "temporarily_unavailable"
    assert outcome.location == "/accounts?error=temporarily_unavailable"
    assert store.get("u1", "open-1") is None
    assert store.list("u1") == []
