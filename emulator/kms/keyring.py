"""The in-memory key material of the fake KMS: crypto keys, their versions, and AES-256-GCM.

Each crypto key version holds its own random 256-bit key. A ciphertext names the version that made
it (a magic prefix and the version number before the nonce), so Decrypt finds the right version
after the primary has moved on, as real KMS does. The crypto key's name is part of the GCM
associated data, so a ciphertext of one key never decrypts under another.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from dataclasses import dataclass, field

import grpc
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_KEY_RE = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_VERSION_RE = re.compile(r"^(?P<key>.+)/cryptoKeyVersions/(?P<number>[1-9][0-9]{0,8})$")
_MAGIC = b"FKMS"
_HEADER = struct.Struct(">4sI")
_NONCE_BYTES = 12
MAX_PLAINTEXT = 64 * 1024  # Cloud KMS's limit for symmetric Encrypt.


class KmsFault(Exception):
    """A request the fake refuses, carrying the gRPC status real KMS would return."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _CryptoKey:
    name: str
    versions: dict[int, AESGCM] = field(default_factory=dict)
    primary: int = 1

    def add_version(self) -> int:
        number = len(self.versions) + 1
        self.versions[number] = AESGCM(AESGCM.generate_key(bit_length=256))
        return number

    def version_name(self, number: int) -> str:
        return f"{self.name}/cryptoKeyVersions/{number}"


@dataclass(frozen=True)
class KeyInfo:
    name: str
    primary_version: str
    versions: tuple[str, ...]


class KeyStore:
    """Every crypto key of this server; safe to call from many gRPC worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _CryptoKey] = {}

    def encrypt(self, name: str, plaintext: bytes, aad: bytes) -> tuple[str, bytes]:
        """Encrypt with the primary version (or the version named); return its name and bytes."""
        if len(plaintext) > MAX_PLAINTEXT:
            raise KmsFault(grpc.StatusCode.INVALID_ARGUMENT, "The plaintext is too large.")
        match = _VERSION_RE.match(name)
        with self._lock:
            if match:
                key = self._key(match["key"], create=False)
                number = int(match["number"])
                if number not in key.versions:
                    raise KmsFault(grpc.StatusCode.NOT_FOUND, f"{name} not found.")
            else:
                key = self._key(name, create=True)
                number = key.primary
            aead = key.versions[number]
            version_name = key.version_name(number)
        nonce = os.urandom(_NONCE_BYTES)
        body = aead.encrypt(nonce, plaintext, _gcm_aad(key.name, aad))
        return version_name, _HEADER.pack(_MAGIC, number) + nonce + body

    def decrypt(self, name: str, ciphertext: bytes, aad: bytes) -> tuple[bytes, bool]:
        """Decrypt a ciphertext of crypto key ``name``; return the plaintext and used_primary."""
        failed = KmsFault(
            grpc.StatusCode.INVALID_ARGUMENT,
            "Decryption failed: the ciphertext is invalid or the additional authenticated data "
            "does not match.",
        )
        if len(ciphertext) < _HEADER.size + _NONCE_BYTES + 16:
            raise failed
        magic, number = _HEADER.unpack_from(ciphertext)
        with self._lock:
            key = self._key(name, create=False)
            aead = key.versions.get(number)
            primary = key.primary
        if magic != _MAGIC or aead is None:
            raise failed
        nonce = ciphertext[_HEADER.size : _HEADER.size + _NONCE_BYTES]
        try:
            plaintext = aead.decrypt(
                nonce, ciphertext[_HEADER.size + _NONCE_BYTES :], _gcm_aad(name, aad)
            )
        except InvalidTag:
            raise failed from None
        return plaintext, number == primary

    def info(self, name: str) -> KeyInfo:
        with self._lock:
            return self._info(self._key(name, create=True))

    def create_version(self, parent: str) -> str:
        with self._lock:
            key = self._key(parent, create=True)
            return key.version_name(key.add_version())

    def set_primary(self, name: str, version_id: str) -> KeyInfo:
        with self._lock:
            key = self._key(name, create=False)
            if not version_id.isdigit() or int(version_id) not in key.versions:
                raise KmsFault(
                    grpc.StatusCode.NOT_FOUND, f"{name}/cryptoKeyVersions/{version_id} not found."
                )
            key.primary = int(version_id)
            return self._info(key)

    def _info(self, key: _CryptoKey) -> KeyInfo:
        return KeyInfo(
            name=key.name,
            primary_version=key.version_name(key.primary),
            versions=tuple(key.version_name(n) for n in sorted(key.versions)),
        )

    def _key(self, name: str, *, create: bool) -> _CryptoKey:
        """The crypto key ``name``; created with version 1 primary on first use if allowed."""
        if not _KEY_RE.match(name):
            raise KmsFault(
                grpc.StatusCode.INVALID_ARGUMENT,
                "Resource name must look like projects/*/locations/*/keyRings/*/cryptoKeys/*.",
            )
        key = self._keys.get(name)
        if key is None:
            if not create:
                raise KmsFault(grpc.StatusCode.NOT_FOUND, f"{name} not found.")
            key = self._keys[name] = _CryptoKey(name)
            key.add_version()
        return key


def _gcm_aad(key_name: str, aad: bytes) -> bytes:
    return key_name.encode() + b"\x00" + aad
