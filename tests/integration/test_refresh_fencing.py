"""A refresh never loses the refresh token TikTok rotated, nor writes over what changed meanwhile.

Real processes: the Firestore emulator, the fake KMS (real google-cloud-kms client, refusing on
command) and the fake TikTok with latency on its token endpoint. Scenarios: KMS failing around a
refresh whose data key would age out mid-call, an ``authorization.removed`` webhook arriving while
a refresh is in flight, and a second instance taking over a lease whose holder is still calling
TikTok.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator.kms.control import KmsControl
from emulator.stack import Stack
from emulator.tiktok.webhooks import sign
from shared import errors, runtime
from shared.accounts.service import mark_if_unusable
from shared.crypto.vault import Vault, field_context, make_kms_client
from shared.store.accounts import ACTIVE, NEEDS_RECONNECT, REVOKED, Account, AccountStore
from shared.store.leases import Leases
from shared.tiktok.client import TikTokClient
from shared.tokens.fresh import ensure_fresh
from shared.tokens.refresh import Due, Outcome, RefreshResult, refresh_account
from tests.integration.test_refresh import decrypt, seed, token_calls
from tests.integration.test_refresh import store as store  # the fixtures, re-exported
from tests.integration.test_refresh import tiktok as tiktok
from tests.support import FakeTikTok

pytestmark = pytest.mark.emulators

MARGIN = timedelta(minutes=5)


@pytest.fixture
def kms(devserver: Stack) -> Iterator[KmsControl]:
    control = KmsControl(devserver.env()["KMS_EMULATOR_HOST"])
    yield control
    control.refuse(False)
    control.close()


def young_vault(stack: Stack) -> Vault:
    """A vault of a fresh instance whose data keys age out after one second (scaled from 10 min)."""
    env = stack.env()
    client = make_kms_client(env["KMS_EMULATOR_HOST"])
    return Vault(client, env["KMS_KEY_NAME"], max_dek_age=1, kms_timeout=1)


def warm(vault: Vault, account: Account) -> None:
    """The instance has served a request: it holds a DEK and the account's key is unwrapped."""
    vault.decrypt(account.refresh_token_enc, context=field_context(account.path, "refresh_token"))
    vault.encrypt("warm-up", context="warm/up#field")


def still_works(tiktok: TikTokClient, account: Account) -> bool:
    """The refresh token stored for ``account`` is the one TikTok currently accepts."""
    return bool(tiktok.refresh(decrypt(account, "refresh_token")).access_token)


def stored_account(store: AccountStore, account: Account) -> Account:
    stored = store.get(account.uid, account.open_id)
    assert stored is not None
    return stored


def stored_doc(store: AccountStore, account: Account) -> dict[str, Any]:
    return store.db.document(account.path).get().to_dict() or {}


def test_kms_refusing_before_a_refresh_stops_it_before_tiktok_rotates(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
    kms: KmsControl,
    devserver: Stack,
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    vault = young_vault(devserver)
    warm(vault, account)
    fake_tiktok.control("POST", "config", json={"latency_ms": {"token": 1500}})
    time.sleep(0.8)  # The DEK is 0.8 s old: still usable for 0.2 s, not for TikTok's 1.5 s.
    kms.refuse(True)

    with pytest.raises(errors.Unavailable) as refused:
        ensure_fresh(store, Leases(store.db), vault, tiktok, account, margin=MARGIN)
    kms.refuse(False)

    assert refused.value.reason == "kms.unavailable"
    assert token_calls(fake_tiktok) == 0  # TikTok was never asked, so nothing was rotated.
    stored = stored_account(store, account)
    assert stored.status == ACTIVE
    assert stored.refresh_token_enc == account.refresh_token_enc
    assert still_works(tiktok, stored)


def test_kms_refusing_during_a_refresh_still_stores_the_rotated_token(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
    kms: KmsControl,
    devserver: Stack,
) -> None:
    [(account, grant)] = seed(fake_tiktok, 1)
    vault = young_vault(devserver)
    warm(vault, account)
    fake_tiktok.control("POST", "config", json={"latency_ms": {"token": 1500}})
    outage = threading.Timer(0.8, kms.refuse)  # KMS goes down while TikTok is answering.
    outage.start()
    try:
        refreshed = ensure_fresh(store, Leases(store.db), vault, tiktok, account, margin=MARGIN)
    finally:
        outage.join()
    assert kms.calls()  # (counters still answer while refusing)
    kms.refuse(False)

    stored = stored_account(store, account)
    assert refreshed.refresh_token_enc == stored.refresh_token_enc != account.refresh_token_enc
    assert token_calls(fake_tiktok) == 1
    assert decrypt(stored, "refresh_token") != grant["refresh_token"]
    assert still_works(tiktok, stored)


def signed_revoke(stack: Stack, open_id: str) -> httpx.Response:
    """TikTok's ``authorization.removed`` webhook, signed with the app's secret, to our route."""
    body = json.dumps(
        {
            "client_key": stack.tiktok_client_key,
            "event": "authorization.removed",
            "create_time": int(time.time()),
            "user_openid": open_id,
            "content": json.dumps({"reason": 1}),
        }
    ).encode()
    return httpx.post(
        f"{stack.functions_url}/api/webhooks/tiktok",
        content=body,
        headers={
            "Content-Type": "application/json",
            "TikTok-Signature": sign(stack.tiktok_client_secret, body, int(time.time())),
        },
    )


def in_background(call: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(call())
        except BaseException as exc:
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


class SlowRefresh:
    """One seeded account whose refresh is running in the background while TikTok's token
    endpoint takes ``latency_ms``: the scenarios act while it is in flight, then ``result()``."""

    def __init__(
        self,
        fake_tiktok: FakeTikTok,
        tiktok: TikTokClient,
        store: AccountStore,
        latency_ms: int,
        vault: Vault | None = None,
    ) -> None:
        [(self.account, self.grant)] = seed(fake_tiktok, 1)
        fake_tiktok.control("POST", "config", json={"latency_ms": {"token": latency_ms}})
        self.vault = vault or runtime.vault()
        self.thread, self._out = in_background(
            lambda: refresh_account(
                store, Leases(store.db), self.vault, tiktok, self.account, due=Due(MARGIN)
            )
        )

    def result(self) -> RefreshResult:
        self.thread.join(30)
        [result] = self._out
        assert isinstance(result, RefreshResult), result
        return result


def test_a_webhook_revoking_the_account_mid_refresh_keeps_it_revoked_without_tokens(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
    devserver: Stack,
) -> None:
    refresh = SlowRefresh(fake_tiktok, tiktok, store, latency_ms=4000)
    time.sleep(0.5)
    answer = signed_revoke(devserver, refresh.account.open_id)
    assert refresh.thread.is_alive()  # Handled while TikTok was still answering the refresh.

    assert refresh.result().outcome is Outcome.INACTIVE
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "revoked"
    doc = stored_doc(store, refresh.account)
    assert doc["status"] == REVOKED
    assert doc["status_reason"] == "tiktok.authorization_removed.user_disconnected"
    assert "access_token_enc" not in doc
    assert "refresh_token_enc" not in doc


def test_a_lease_taken_over_mid_call_ends_with_the_valid_tokens_and_an_active_account(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    fake_tiktok.control("POST", "config", json={"latency_ms": {"token": 2500}})
    leases = Leases(store.db)
    vault = runtime.vault()

    def attempt() -> RefreshResult:
        return refresh_account(
            store, leases, vault, tiktok, account, due=Due(MARGIN), lease_ttl=timedelta(seconds=1)
        )

    first, first_out = in_background(attempt)
    time.sleep(1.3)  # The first holder's lease expired; its TikTok call is still running.
    second, second_out = in_background(attempt)
    first.join(30)
    second.join(30)

    [first_result], [second_result] = first_out, second_out
    assert isinstance(first_result, RefreshResult), first_result
    assert isinstance(second_result, RefreshResult), second_result
    assert first_result.outcome is Outcome.REFRESHED
    # The taker-over used the refresh token the first call had rotated: TikTok refused it, and
    # that refusal says nothing about the account, which holds newer tokens by then.
    assert second_result.outcome is Outcome.ALREADY_FRESH
    assert token_calls(fake_tiktok) == 2
    stored = stored_account(store, account)
    assert (stored.status, stored.status_reason) == (ACTIVE, None)
    assert stored.refresh_token_enc == first_result.account.refresh_token_enc  # type: ignore[union-attr]
    assert stored.access_expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert still_works(tiktok, stored)


def test_the_user_removing_the_app_mid_refresh_leaves_it_revoked_not_needs_reconnect(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
) -> None:
    refresh = SlowRefresh(fake_tiktok, tiktok, store, latency_ms=2500)
    time.sleep(0.5)
    # At TikTok: every authorization revoked, so the refresh in flight is refused, and TikTok's
    # own signed authorization.removed webhook goes to our route.
    fake_tiktok.control("POST", f"users/{refresh.account.open_id}/deauthorize", json={"reason": 1})

    assert refresh.result().outcome is Outcome.INACTIVE
    doc = stored_doc(store, refresh.account)
    assert (doc["status"], doc["status_reason"]) == (
        REVOKED,
        "tiktok.authorization_removed.user_disconnected",
    )
    assert not {"access_token_enc", "refresh_token_enc"} & set(doc)


def test_a_refusal_of_the_old_token_during_a_refresh_is_lifted_by_its_answer(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
) -> None:
    refresh = SlowRefresh(fake_tiktok, tiktok, store, latency_ms=2500)
    account = refresh.account
    time.sleep(1.0)
    # Meanwhile a request using the old access token was refused by TikTok (as a post's init
    # would be), and marked the account for reconnecting.
    stale = errors.Unauthenticated("token expired", reason="tiktok.access_token_invalid")
    mark_if_unusable(store, account, stale, datetime.now(UTC))
    assert stored_account(store, account).status == NEEDS_RECONNECT

    result = refresh.result()
    assert result.outcome is Outcome.REFRESHED
    stored = stored_account(store, account)
    assert (stored.status, stored.status_reason) == (ACTIVE, None)
    assert stored.refresh_token_enc == result.account.refresh_token_enc  # type: ignore[union-attr]
    assert still_works(tiktok, stored)


def test_a_rewrap_mid_refresh_does_not_make_the_refresh_drop_its_rotated_token(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
) -> None:
    refresh = SlowRefresh(fake_tiktok, tiktok, store, latency_ms=2500)
    account, grant, vault = refresh.account, refresh.grant, refresh.vault
    time.sleep(1.0)
    # What the re-wrap job writes after a key rotation: the same tokens, sealed anew.
    resealed = {
        f"{name}_enc": vault.encrypt(grant[name], context=field_context(account.path, name))
        for name in ("access_token", "refresh_token")
    }
    store.update(account.uid, account.open_id, resealed)

    result = refresh.result()
    assert result.outcome is Outcome.REFRESHED
    stored = stored_account(store, account)
    assert stored.refresh_token_enc == result.account.refresh_token_enc  # type: ignore[union-attr]
    assert decrypt(stored, "refresh_token") != grant["refresh_token"]
    assert still_works(tiktok, stored)


def test_a_refusal_of_replaced_tokens_neither_flags_nor_unrevokes_the_account(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    store: AccountStore,
    devserver: Stack,
) -> None:
    [(account, _)] = seed(fake_tiktok, 1)
    leases = Leases(store.db)
    refreshed = ensure_fresh(store, leases, runtime.vault(), tiktok, account, margin=MARGIN)
    stale = errors.Unauthenticated("token expired", reason="tiktok.access_token_invalid")

    mark_if_unusable(store, account, stale, datetime.now(UTC))  # a request that read it before
    assert stored_account(store, account).status == ACTIVE

    assert signed_revoke(devserver, account.open_id).status_code == 200
    mark_if_unusable(store, refreshed, stale, datetime.now(UTC))
    doc = stored_doc(store, account)
    assert doc["status"] == REVOKED
