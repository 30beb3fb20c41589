"""The re-wrap job against the Firestore emulator and the fake KMS of the local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from emulator.stack import Stack
from shared.crypto.rewrap import rewrap_all
from shared.crypto.vault import Vault, field_context, make_kms_client
from shared.store.ciphertexts import Ciphertexts

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_FIELDS = {"access_token_enc": "access_token", "refresh_token_enc": "refresh_token"}


@pytest.fixture
def kms(clean: Stack) -> Any:
    if "kms" not in clean.children:
        clean.start(["kms"])
    return make_kms_client(clean.env()["KMS_EMULATOR_HOST"])


@pytest.fixture
def key_name(clean: Stack) -> str:
    return (
        f"projects/{clean.project_id}/locations/global/keyRings/rewrap/cryptoKeys/"
        f"k{uuid.uuid4().hex[:12]}"
    )


@pytest.fixture
def db(clean: Stack) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=clean.project_id)


def rotate(kms: Any, key_name: str) -> str:
    version = kms.create_crypto_key_version(parent=key_name, crypto_key_version={})
    kms.update_crypto_key_primary_version(
        name=key_name, crypto_key_version_id=version.name.rsplit("/", 1)[1]
    )
    return str(version.name)


def seed(db: Any, vault: Vault, accounts: int = 7, posts: int = 2) -> list[str]:
    """Accounts over three users, a few posts, and one account without tokens."""
    paths = []
    for i in range(accounts):
        path = f"users/u{i % 3}/accounts/o{i}"
        db.document(path).set(
            {
                "display_name": f"account {i}",
                **{
                    stored: vault.encrypt(f"{ctx}-{i}", context=field_context(path, ctx))
                    for stored, ctx in ACCOUNT_FIELDS.items()
                },
            }
        )
        paths.append(path)
    for i in range(posts):
        path = f"users/u{i}/posts/p{i}"
        url = f"https://upload.example/{i}"
        db.document(path).set(
            {"upload_url_enc": vault.encrypt(url, context=field_context(path, "upload_url"))}
        )
        paths.append(path)
    db.document("users/u0/accounts/disconnected").set({"status": "revoked"})
    return paths


def versions(db: Any, vault: Vault) -> dict[str, str]:
    """Every stored value's key version, checking that each still decrypts in place."""
    found = {}
    for group, fields in (
        ("accounts", ACCOUNT_FIELDS),
        ("posts", {"upload_url_enc": "upload_url"}),
    ):
        for snapshot in db.collection_group(group).stream():
            data = snapshot.to_dict()
            for stored, ctx in fields.items():
                if stored in data:
                    path = snapshot.reference.path
                    vault.decrypt(data[stored], context=field_context(path, ctx))
                    found[f"{path}#{stored}"] = vault.key_version(data[stored])
    return found


def test_rewrap_moves_every_value_to_the_primary_version(db: Any, kms: Any, key_name: str) -> None:
    seed(db, Vault(kms, key_name))
    v2 = rotate(kms, key_name)

    report = rewrap_all(Ciphertexts(db), Vault(kms, key_name), page_size=3)

    assert (report.scanned, report.rewrapped, report.skipped_current) == (10, 9, 1)
    assert (report.conflicts, report.failed) == (0, 0)
    assert report.cursor == "posts:users/u1/posts/p1"
    found = versions(db, Vault(kms, key_name))
    assert len(found) == 16
    assert set(found.values()) == {v2}
    account = db.document("users/u1/accounts/o4").get().to_dict()
    assert account["display_name"] == "account 4"
    reader = Vault(kms, key_name)
    context = field_context("users/u1/accounts/o4", "refresh_token")
    assert reader.decrypt(account["refresh_token_enc"], context=context) == "refresh_token-4"

    again = rewrap_all(Ciphertexts(db), Vault(kms, key_name))
    assert (again.scanned, again.rewrapped, again.skipped_current) == (10, 0, 10)


def test_rewrap_resumes_from_its_cursor(db: Any, kms: Any, key_name: str) -> None:
    seed(db, Vault(kms, key_name))
    v2 = rotate(kms, key_name)

    first = rewrap_all(Ciphertexts(db), Vault(kms, key_name), page_size=2, max_documents=5)
    # Document-path order: users/u0/accounts/disconnected (no tokens) comes first.
    assert (first.scanned, first.rewrapped, first.skipped_current) == (5, 4, 1)
    assert first.cursor == "accounts:users/u1/accounts/o1"
    rest = rewrap_all(Ciphertexts(db), Vault(kms, key_name), page_size=2, start_after=first.cursor)
    assert (rest.scanned, rest.rewrapped, rest.skipped_current) == (5, 5, 0)
    assert set(versions(db, Vault(kms, key_name)).values()) == {v2}


class RefreshingVault(Vault):
    """A vault during whose re-wrap a token refresh rewrites one document (a real write)."""

    def __init__(self, *args: Any, db: Any, path: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db, self.path, self.done = db, path, False

    def rewrap(self, stored: str, *, context: str) -> str | None:
        moved = super().rewrap(stored, context=context)
        if context.startswith(self.path + "#") and not self.done:
            self.done = True
            ctx = field_context(self.path, "access_token")
            self.db.document(self.path).update(
                {"access_token_enc": self.encrypt("refreshed", context=ctx)}
            )
        return moved


def test_a_concurrent_refresh_is_not_overwritten(db: Any, kms: Any, key_name: str) -> None:
    seed(db, Vault(kms, key_name), accounts=3, posts=0)
    rotate(kms, key_name)
    path = "users/u1/accounts/o1"
    vault = RefreshingVault(kms, key_name, db=db, path=path)

    report = rewrap_all(Ciphertexts(db), vault)

    assert (report.rewrapped, report.conflicts) == (2, 1)
    data = db.document(path).get().to_dict()
    reader = Vault(kms, key_name)
    assert reader.decrypt(
        data["access_token_enc"], context=field_context(path, "access_token")
    ) == ("refreshed")
    # The refresh's own write is untouched; the other field still decrypts under its old version.
    refresh = reader.decrypt(
        data["refresh_token_enc"], context=field_context(path, "refresh_token")
    )
    assert refresh == "refresh_token-1"
    assert (
        rewrap_all(Ciphertexts(db), Vault(kms, key_name)).rewrapped == 1
    )  # A second run finishes the job.


def test_cli_runs_from_the_environment(clean: Stack, db: Any, kms: Any, key_name: str) -> None:
    seed(db, Vault(kms, key_name), accounts=2, posts=1)
    rotate(kms, key_name)
    env = {**os.environ, **clean.env(), "KMS_KEY_NAME": key_name}
    result = subprocess.run(
        [sys.executable, "-m", "shared.crypto.rewrap", "--page-size", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rewrapped"] == 3
    assert report["cursor"] == "posts:users/u0/posts/p0"
