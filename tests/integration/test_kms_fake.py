"""The fake Cloud KMS behaves as real KMS does for what the vault relies on (real client, real
process): version names, rotation, CRC32C integrity fields and status codes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from google.api_core import exceptions

from emulator.kms.control import KmsControl, start
from emulator.procs import Child
from shared.crypto.kms import crc32c, make_kms_client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Child, str]]:
    child, host = start(tmp_path_factory.mktemp("kms"))
    yield child, host
    child.stop()


@pytest.fixture
def client(server: tuple[Child, str]) -> Any:
    return make_kms_client(server[1])


@pytest.fixture
def control(server: tuple[Child, str]) -> Iterator[KmsControl]:
    ctl = KmsControl(server[1])
    ctl.reset()
    yield ctl
    ctl.reset()
    ctl.close()


@pytest.fixture
def key() -> str:
    return f"projects/demo-test/locations/global/keyRings/fake/cryptoKeys/k{uuid.uuid4().hex[:8]}"


def encrypt(client: Any, name: str, data: bytes, aad: bytes = b"aad") -> Any:
    return client.encrypt(
        request={
            "name": name,
            "plaintext": data,
            "plaintext_crc32c": crc32c(data),
            "additional_authenticated_data": aad,
            "additional_authenticated_data_crc32c": crc32c(aad),
        },
        retry=None,
    )


def decrypt(client: Any, name: str, ciphertext: bytes, aad: bytes = b"aad") -> Any:
    request = {"name": name, "ciphertext": ciphertext, "additional_authenticated_data": aad}
    return client.decrypt(request=request, retry=None)


def test_encrypt_names_the_version_and_checksums_round_trip(client: Any, key: str) -> None:
    response = encrypt(client, key, b"secret")
    assert response.name == f"{key}/cryptoKeyVersions/1"
    assert response.verified_plaintext_crc32c
    assert response.verified_additional_authenticated_data_crc32c
    assert response.ciphertext_crc32c == crc32c(response.ciphertext)
    decrypted = decrypt(client, key, response.ciphertext)
    assert decrypted.plaintext == b"secret"
    assert decrypted.plaintext_crc32c == crc32c(b"secret")
    assert decrypted.used_primary


def test_old_versions_decrypt_after_rotation(client: Any, key: str) -> None:
    old = encrypt(client, key, b"old").ciphertext
    version = client.create_crypto_key_version(parent=key, crypto_key_version={})
    assert version.name == f"{key}/cryptoKeyVersions/2"
    updated = client.update_crypto_key_primary_version(name=key, crypto_key_version_id="2")
    assert updated.primary.name == version.name
    assert client.get_crypto_key(name=key).primary.name == version.name
    assert encrypt(client, key, b"new").name == version.name
    assert encrypt(client, f"{key}/cryptoKeyVersions/1", b"x").name.endswith("/1")
    result = decrypt(client, key, old)
    assert result.plaintext == b"old"
    assert not result.used_primary


def test_refusals_use_kms_status_codes(client: Any, key: str, control: KmsControl) -> None:
    ciphertext = encrypt(client, key, b"secret").ciphertext
    with pytest.raises(exceptions.InvalidArgument, match="Decryption failed"):
        decrypt(client, key, ciphertext, b"other")
    with pytest.raises(exceptions.InvalidArgument, match="Decryption failed"):
        decrypt(client, key, ciphertext[:-1] + b"\x00")
    with pytest.raises(exceptions.InvalidArgument, match="checksum"):
        client.encrypt(request={"name": key, "plaintext": b"x", "plaintext_crc32c": 1}, retry=None)
    with pytest.raises(exceptions.NotFound):
        decrypt(client, key.replace("/cryptoKeys/", "/cryptoKeys/none-"), ciphertext)
    with pytest.raises(exceptions.NotFound):
        client.update_crypto_key_primary_version(name=key, crypto_key_version_id="9")
    with pytest.raises(exceptions.InvalidArgument):
        encrypt(client, "projects/p/keyRings/r", b"x")
    control.refuse()
    with pytest.raises(exceptions.ServiceUnavailable):
        encrypt(client, key, b"x")
    assert control.calls()["Encrypt"] == 4
    control.reset()
    assert control.calls() == {}
