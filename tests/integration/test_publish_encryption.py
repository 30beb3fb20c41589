"""Publishing never leaves TikTok holding a post we cannot upload to.

The fake KMS (real google-cloud-kms client) refuses on command, the fake TikTok answers init and
takes chunks, Firestore is the emulator; publish and the chunk relay run in this process with a
vault of a fresh instance. A post that somehow has a publish_id but no stored upload URL fails
with a named reason, from the chunk route and from the sweep, instead of waiting for ever.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import firestore

from emulator.kms.control import KmsControl
from emulator.stack import Stack
from shared import errors, runtime
from shared.crypto.vault import Vault, field_context, make_kms_client
from shared.publishing.publish import Publisher, publish
from shared.publishing.relay import relay_chunk
from shared.status.sweep import run_sweep
from shared.store.accounts import Account
from shared.store.posts import post_path
from shared.store.users import Store
from shared.tiktok.client import TikTokClient
from tests.integration.test_refresh import seed
from tests.integration.test_refresh import tiktok as tiktok  # the fixture, re-exported
from tests.media_server import media_pieces
from tests.support import FakeTikTok

pytestmark = pytest.mark.emulators

SIZE = 3_000_000  # one chunk
INIT_ENDPOINTS = ("video_init", "inbox_init", "content_init")


@pytest.fixture
def kms(devserver: Stack) -> Iterator[KmsControl]:
    control = KmsControl(devserver.env()["KMS_EMULATOR_HOST"])
    yield control
    control.refuse(False)
    control.close()


@pytest.fixture
def account(fake_tiktok: FakeTikTok) -> Account:
    [(seeded, _)] = seed(fake_tiktok, 1, expires_in=timedelta(hours=2))
    # Publishing checks the user is live (not being deleted): the user signed in once.
    Store(runtime.firestore_client()).upsert_user(
        seeded.uid, email=None, name=None, picture=None, now=datetime.now(UTC)
    )
    return seeded


def fresh_vault(stack: Stack) -> Vault:
    env = stack.env()
    return Vault(make_kms_client(env["KMS_EMULATOR_HOST"]), env["KMS_KEY_NAME"], kms_timeout=1)


def publisher(vault: Vault, tiktok: TikTokClient) -> Publisher:
    return Publisher(
        posts=runtime.post_store(),
        accounts=runtime.account_store(),
        vault=vault,
        tiktok=tiktok,
        status=runtime.status_store(),
        chunk_limit=10_000_000,
    )


def inbox_upload(open_id: str) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "inbox",
        "media": {"type": "video", "source": "file", "size": SIZE},
        "post": {"title": "a #test"},
        "duration_sec": 12.0,
    }


def init_calls(fake: FakeTikTok) -> int:
    counts = fake.calls()
    return sum(counts.get(name, 0) for name in INIT_ENDPOINTS)


def send_chunk(p: Publisher, account: Account, post_id: str) -> dict[str, Any]:
    body = io.BytesIO(b"".join(media_pieces("clip.mp4", 0, SIZE - 1)))
    return relay_chunk(
        p,
        uid=account.uid,
        post_id=post_id,
        index=0,
        body=body,
        content_length=SIZE,
        now=datetime.now(UTC),
    )


def stored_post(account: Account, post_id: str) -> dict[str, Any]:
    doc = runtime.firestore_client().document(post_path(account.uid, post_id)).get().to_dict()
    assert doc is not None
    return doc


def test_kms_down_before_an_init_fails_the_publish_before_tiktok_has_the_post(
    fake_tiktok: FakeTikTok,
    tiktok: TikTokClient,
    account: Account,
    kms: KmsControl,
    devserver: Stack,
) -> None:
    vault = fresh_vault(devserver)
    # The instance's one warm call: it read the account's access token (its data key unwrapped).
    vault.decrypt(account.access_token_enc, context=field_context(account.path, "access_token"))
    kms.refuse(True)
    p = publisher(vault, tiktok)
    body = inbox_upload(account.open_id)

    with pytest.raises(errors.Unavailable) as refused:
        publish(p, uid=account.uid, body=body, idempotency_key="k-1", now=datetime.now(UTC))
    kms.refuse(False)

    assert refused.value.reason == "kms.unavailable"
    assert init_calls(fake_tiktok) == 0  # TikTok never heard of this post.
    assert list(runtime.post_store().db.collection_group("posts").stream()) == []
    replayed, post = publish(
        p, uid=account.uid, body=body, idempotency_key="k-1", now=datetime.now(UTC)
    )
    assert not replayed  # The key was released: the retry is the first real attempt.
    assert post["status"] == "PROCESSING_UPLOAD"
    assert send_chunk(p, account, post["id"])["complete"] is True
    assert init_calls(fake_tiktok) == 1


def strand(account: Account, post_id: str) -> None:
    """Leave the post as a KMS failure between its two writes used to: publish_id, no URL."""
    runtime.firestore_client().document(post_path(account.uid, post_id)).update(
        {"upload_url_enc": firestore.DELETE_FIELD}
    )


def test_a_post_without_its_upload_url_fails_at_the_chunk_route_with_a_named_reason(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, account: Account
) -> None:
    p = publisher(runtime.vault(), tiktok)
    _, post = publish(
        p,
        uid=account.uid,
        body=inbox_upload(account.open_id),
        idempotency_key=None,
        now=datetime.now(UTC),
    )
    strand(account, post["id"])

    for _ in range(2):  # The first request settles it; every later one says the same.
        with pytest.raises(errors.FailedPrecondition) as refused:
            send_chunk(p, account, post["id"])
        assert refused.value.reason == "upload.url_lost"
        assert "start a new post" in refused.value.message
    doc = stored_post(account, post["id"])
    assert (doc["status"], doc["fail_reason"]) == ("FAILED", "upload_url_lost")


def test_the_sweep_fails_a_post_without_its_upload_url(
    fake_tiktok: FakeTikTok, tiktok: TikTokClient, account: Account
) -> None:
    p = publisher(runtime.vault(), tiktok)
    now = datetime.now(UTC)
    _, post = publish(
        p, uid=account.uid, body=inbox_upload(account.open_id), idempotency_key=None, now=now
    )
    strand(account, post["id"])

    outcomes = run_sweep(runtime.tracker(), now=now + timedelta(minutes=3))

    assert outcomes == {"upload_url_lost": 1}
    doc = stored_post(account, post["id"])
    assert (doc["status"], doc["fail_reason"], doc["status_source"]) == (
        "FAILED",
        "upload_url_lost",
        "sweep",
    )
