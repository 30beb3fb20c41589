"""The vault against the fake Cloud KMS, run as a real process and reached by the real client."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from emulator.kms.control import KmsControl, start
from emulator.procs import Child, free_port
from shared.crypto.kms import KMS_RETRY_AFTER
from shared.crypto.vault import KeyServiceError, Vault, VaultError, field_context, make_kms_client
from shared.errors import Internal, Unavailable

ROOT = Path(__file__).resolve().parents[2]
DOC = "users/u1/accounts/o1"
CONTEXT = field_context(DOC, "access_token")
SECRET = "act.example-access-token-0123456789"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def kms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Child, str]]:
    child, host = start(tmp_path_factory.mktemp("kms"))
    yield child, host
    child.stop()


@pytest.fixture(scope="module")
def client(kms_server: tuple[Child, str]) -> Any:
    return make_kms_client(kms_server[1])


@pytest.fixture
def control(kms_server: tuple[Child, str]) -> Iterator[KmsControl]:
    ctl = KmsControl(kms_server[1])
    ctl.reset()
    yield ctl
    ctl.reset()
    ctl.close()


@pytest.fixture
def key_name() -> str:
    """A crypto key of its own per test (the fake creates keys on first use)."""
    return f"projects/demo-test/locations/global/keyRings/vault/cryptoKeys/k{uuid.uuid4().hex[:12]}"


@pytest.fixture
def vault(client: Any, key_name: str) -> Vault:
    return Vault(client, key_name, kms_timeout=2.0)


def rotate(client: Any, key_name: str) -> str:
    version = client.create_crypto_key_version(parent=key_name, crypto_key_version={})
    client.update_crypto_key_primary_version(
        name=key_name, crypto_key_version_id=version.name.rsplit("/", 1)[1]
    )
    return str(version.name)


def fields(stored: str) -> list[str]:
    return stored.split(".")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip(vault: Vault, key_name: str) -> None:
    for text in (SECRET, "", "ünïcødé ✓"):
        stored = vault.encrypt(text, context=CONTEXT)
        assert SECRET not in stored
        assert stored.startswith("v1.")
        assert vault.decrypt(stored, context=CONTEXT) == text
    assert vault.key_version(stored) == f"{key_name}/cryptoKeyVersions/1"
    assert vault.encrypt(SECRET, context=CONTEXT) != vault.encrypt(SECRET, context=CONTEXT)


def _tamper(stored: str, index: int) -> str:
    parts = fields(stored)
    raw = bytearray(base64.urlsafe_b64decode(parts[index] + "=" * (-len(parts[index]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    parts[index] = b64(bytes(raw))
    return ".".join(parts)


@pytest.mark.parametrize(
    ("change", "context", "message"),
    [
        ("none", field_context("users/u1/accounts/o2", "access_token"), "another document"),
        ("none", field_context("users/u2/accounts/o1", "access_token"), "another document"),
        ("none", field_context(DOC, "refresh_token"), "another document"),
        ("wrapped", CONTEXT, "data key"),
        ("nonce", CONTEXT, "another document"),
        ("ciphertext", CONTEXT, "another document"),
        ("truncate", CONTEXT, "altered"),
        ("drop_field", CONTEXT, "malformed"),
        ("format_v2", CONTEXT, "unknown format version"),
        ("other_version", CONTEXT, "another document"),
        ("foreign_key", CONTEXT, "key this vault does not use"),
        ("garbage", CONTEXT, "malformed"),
    ],
)
def test_a_moved_or_altered_value_does_not_decrypt(
    client: Any, key_name: str, change: str, context: str, message: str
) -> None:
    writer = Vault(client, key_name)
    stored = writer.encrypt(SECRET, context=CONTEXT)
    parts = fields(stored)
    if change in ("wrapped", "nonce", "ciphertext"):
        stored = _tamper(stored, {"wrapped": 2, "nonce": 3, "ciphertext": 4}[change])
    elif change == "truncate":
        stored = stored[:-6]
    elif change == "drop_field":
        stored = ".".join(parts[:4])
    elif change == "format_v2":
        stored = ".".join(["v2", *parts[1:]])
    elif change == "other_version":
        parts[1] = b64(f"{key_name}/cryptoKeyVersions/2".encode())
        stored = ".".join(parts)
    elif change == "foreign_key":
        other = key_name.replace("/cryptoKeys/", "/cryptoKeys/other-")
        parts[1] = b64(f"{other}/cryptoKeyVersions/1".encode())
        stored = ".".join(parts)
    elif change == "garbage":
        stored = "v1.!!!.***.???.///"
    # The writer has the DEK cached; a fresh reader must ask KMS. Both must refuse.
    for reader in (writer, Vault(client, key_name)):
        with pytest.raises(VaultError, match=message) as caught:
            reader.decrypt(stored, context=context)
        assert isinstance(caught.value, Internal)
        assert SECRET not in str(caught.value)
        assert stored not in str(caught.value)


def test_rotation_keeps_old_values_readable_and_rewrap_moves_them(
    client: Any, key_name: str, control: KmsControl
) -> None:
    clock = FakeClock()
    vault = Vault(client, key_name, clock=clock)
    old = vault.encrypt(SECRET, context=CONTEXT)
    assert vault.primary_version().endswith("/cryptoKeyVersions/1")
    assert vault.rewrap(old, context=CONTEXT) is None

    v2 = rotate(client, key_name)
    clock.now += 61  # Past the primary-version cache.
    assert vault.primary_version() == v2
    assert Vault(client, key_name).decrypt(old, context=CONTEXT) == SECRET

    moved = vault.rewrap(old, context=CONTEXT)
    assert moved is not None
    assert vault.key_version(moved) == v2
    assert Vault(client, key_name).decrypt(moved, context=CONTEXT) == SECRET
    assert vault.rewrap(moved, context=CONTEXT) is None

    # Ordinary writes move to the new version once the current DEK's age bound passes.
    clock.now += 601
    assert Vault(client, key_name).key_version(vault.encrypt(SECRET, context=CONTEXT)) == v2
    assert (
        Vault(client, key_name).key_version(
            Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
        )
        == v2
    )


def test_one_thousand_writes_and_reads_cost_at_most_five_kms_calls(
    client: Any, key_name: str, control: KmsControl
) -> None:
    writer = Vault(client, key_name)
    stored = [writer.encrypt(f"{SECRET}-{i}", context=CONTEXT) for i in range(1000)]
    reader = Vault(client, key_name)  # Another instance: must unwrap, once.
    for i, value in enumerate(stored):
        assert writer.decrypt(value, context=CONTEXT) == f"{SECRET}-{i}"
        assert reader.decrypt(value, context=CONTEXT) == f"{SECRET}-{i}"
    assert control.calls() == {"Encrypt": 1, "Decrypt": 1}


def test_threads_missing_the_same_data_key_unwrap_it_once(
    client: Any, key_name: str, control: KmsControl
) -> None:
    """A fresh instance under load asks KMS once per DEK, not once per thread."""
    stored = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    control.reset()
    reader = Vault(client, key_name)
    start = threading.Barrier(16)

    def read() -> str:
        start.wait()
        return reader.decrypt(stored, context=CONTEXT)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: read(), range(16)))
    assert results == [SECRET] * 16
    assert control.calls() == {"Decrypt": 1}


def test_dek_reuse_is_bounded_by_count_and_age(
    client: Any, key_name: str, control: KmsControl
) -> None:
    clock = FakeClock()
    vault = Vault(client, key_name, clock=clock, max_dek_uses=3, max_dek_age=30)
    wrapped = {fields(vault.encrypt(SECRET, context=CONTEXT))[2] for _ in range(7)}
    assert len(wrapped) == 3  # 3 + 3 + 1 uses.
    assert control.calls() == {"Encrypt": 3}

    clock.now += 29
    vault.encrypt(SECRET, context=CONTEXT)  # Third DEK's second use, still young.
    assert control.calls() == {"Encrypt": 3}
    clock.now += 1
    vault.encrypt(SECRET, context=CONTEXT)
    assert control.calls() == {"Encrypt": 4}


def test_a_reservation_gets_a_dek_that_lasts_and_needs_no_kms_call_later(
    client: Any, key_name: str, control: KmsControl
) -> None:
    clock = FakeClock()
    vault = Vault(client, key_name, clock=clock, max_dek_uses=10, max_dek_age=30)
    vault.encrypt(SECRET, context=CONTEXT)
    clock.now += 20
    sealer = vault.reserve(2, hold=5)  # 20 + 5 < 30: the current DEK covers it.
    assert control.calls() == {"Encrypt": 1}
    later = vault.reserve(2, hold=15)  # 20 + 15 >= 30: a fresh DEK, wrapped now.
    assert control.calls() == {"Encrypt": 2}

    control.refuse()
    clock.now += 100  # Both DEKs are far past their age: reserved uses still need no KMS.
    values = [s.encrypt(SECRET, context=CONTEXT) for s in (sealer, sealer, later, later)]
    with pytest.raises(ValueError, match="reserved"):
        sealer.encrypt(SECRET, context=CONTEXT)
    with pytest.raises(Unavailable):
        vault.reserve(1, hold=0)  # Nothing current is young enough and KMS is down: fail now.
    control.refuse(False)
    assert len({fields(v)[2] for v in values}) == 2
    assert {vault.decrypt(v, context=CONTEXT) for v in values} == {SECRET}


def test_reserved_uses_count_against_the_dek_budget(
    client: Any, key_name: str, control: KmsControl
) -> None:
    vault = Vault(client, key_name, max_dek_uses=3)
    vault.reserve(2, hold=0)
    vault.encrypt(SECRET, context=CONTEXT)  # The third use of the first DEK.
    assert control.calls() == {"Encrypt": 1}
    vault.reserve(2, hold=0)  # Would be uses 4 and 5: a new DEK.
    assert control.calls() == {"Encrypt": 2}


def test_unwrapped_key_cache_is_bounded_by_age_and_size(
    client: Any, key_name: str, control: KmsControl
) -> None:
    clock = FakeClock()
    a = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    b = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    reader = Vault(client, key_name, clock=clock, cache_size=1, cache_ttl=100)
    control.reset()
    for value in (a, a, b, b, a):  # Size 1: a, b, a each miss once.
        reader.decrypt(value, context=CONTEXT)
    assert control.calls() == {"Decrypt": 3}
    clock.now += 100
    reader.decrypt(a, context=CONTEXT)
    assert control.calls() == {"Decrypt": 4}


def test_concurrent_use_is_safe_and_counts_every_encryption(
    client: Any, key_name: str, control: KmsControl
) -> None:
    vault = Vault(client, key_name, max_dek_uses=50)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                text = f"{n}-{i}"
                assert vault.decrypt(vault.encrypt(text, context=CONTEXT), context=CONTEXT) == text
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert control.calls() == {"Encrypt": 1600 // 50}


def test_kms_refusing_or_gone_is_unavailable(
    client: Any, key_name: str, control: KmsControl, tmp_path: Path
) -> None:
    stored = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    control.refuse()
    calls: tuple[Callable[[Vault], object], ...] = (
        lambda v: v.encrypt(SECRET, context=CONTEXT),
        lambda v: v.decrypt(stored, context=CONTEXT),
        lambda v: v.primary_version(),
    )
    for call in calls:
        with pytest.raises(Unavailable, match=r"^the key service is unavailable$") as caught:
            call(Vault(client, key_name, kms_timeout=0.3))
        assert caught.value.http_status == 503
    control.refuse(False)
    assert Vault(client, key_name).decrypt(stored, context=CONTEXT) == SECRET

    nobody = make_kms_client(f"127.0.0.1:{free_port()}")
    with pytest.raises(Unavailable):
        Vault(nobody, key_name, kms_timeout=0.3).encrypt(SECRET, context=CONTEXT)


def test_kms_refusing_fails_within_a_couple_of_seconds_and_says_when_to_retry(
    client: Any, key_name: str, control: KmsControl
) -> None:
    control.refuse()
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        Vault(client, key_name).encrypt(SECRET, context=CONTEXT)  # the default budget
    elapsed = time.monotonic() - started
    assert elapsed < 3.5
    assert control.calls()["Encrypt"] >= 2  # retried within that budget, not given up at once
    assert caught.value.retry_after == KMS_RETRY_AFTER
    assert caught.value.reason == "kms.unavailable"


def test_corrupted_kms_responses_fail_closed(
    client: Any, key_name: str, control: KmsControl
) -> None:
    stored = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    control.corrupt_checksums(1)
    with pytest.raises(KeyServiceError, match="integrity"):
        Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    control.corrupt_checksums(1)
    with pytest.raises(KeyServiceError, match="integrity"):
        Vault(client, key_name).decrypt(stored, context=CONTEXT)
    control.drop_verified(1)
    with pytest.raises(KeyServiceError, match="verify"):
        Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    # Nothing was cached from the refused answers; the next calls succeed.
    vault = Vault(client, key_name)
    assert vault.decrypt(vault.encrypt(SECRET, context=CONTEXT), context=CONTEXT) == SECRET


def test_unknown_key_is_refused_without_a_google_error(client: Any, key_name: str) -> None:
    stored = Vault(client, key_name).encrypt(SECRET, context=CONTEXT)
    other = key_name.replace("/cryptoKeys/", "/cryptoKeys/never-used-")
    parts = fields(stored)
    parts[1] = b64(f"{other}/cryptoKeyVersions/1".encode())
    with pytest.raises(KeyServiceError, match="NOT_FOUND"):
        Vault(client, other).decrypt(".".join(parts), context=CONTEXT)


def test_field_context_and_lazy_import() -> None:
    assert field_context(DOC, "access_token") == "users/u1/accounts/o1#access_token"
    with pytest.raises(ValueError, match="document path"):
        field_context("", "access_token")
    code = "import sys, shared.crypto.vault; sys.exit('google.cloud.kms' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0
