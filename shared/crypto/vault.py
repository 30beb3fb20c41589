"""Envelope encryption of tokens and upload URLs: AES-256-GCM data keys wrapped by Cloud KMS.

A stored value is ``v1.<key version>.<wrapped DEK>.<nonce>.<ciphertext>``, each field base64url
without padding. It names the KMS crypto key version that wrapped its data key (DEK), so key
rotation needs no code change: KMS Decrypt finds that version by itself, and :meth:`Vault.rewrap`
moves old values to the primary one. The GCM associated data binds the format version, that key
version name and the value's *context* (its Firestore document path and field), so a value moved
to another document or field, or edited in any byte, fails to decrypt.

KMS calls are amortised: one instance reuses its current DEK for a bounded number of encryptions
and a bounded time, and keeps unwrapped DEKs in a small LRU cache with a bounded age. Nothing here
logs, and no error message carries a plaintext, a DEK or a stored value.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.crypto.kms import (
    KMS_TIMEOUT,
    KeyService,
    KeyServiceError,
    WrappedKeyInvalid,
    make_kms_client,
)
from shared.errors import Internal

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# KeyServiceError is re-exported for callers that tell a KMS refusal from a bad stored value.
__all__ = [
    "Encryptor",
    "KeyServiceError",
    "Vault",
    "VaultError",
    "field_context",
    "make_kms_client",
]

FORMAT = "v1"
NONCE_BYTES = 12  # 96-bit random nonces, the GCM size that needs no extra derivation.
TAG_BYTES = 16

# How long one DEK may serve new encryptions. With random 96-bit nonces, NIST SP 800-38D caps a
# key at 2**32 encryptions so that the chance of any nonce repeating stays below 2**-32. The
# chance after q encryptions is about q**2 / 2**97: 2**-57 for our 2**20, about 4,000 times fewer
# invocations than the cap and a collision risk 2**25 times smaller than NIST's bound. The count
# is per instance and per DEK (every instance makes its own DEK), so instances never add up.
# The age bound keeps a key rotation taking effect for new writes within minutes and limits how
# long one DEK protects fresh data; one KMS Encrypt per instance per 10 minutes is negligible.
MAX_DEK_USES = 2**20
MAX_DEK_AGE = 600.0
# Unwrapped DEKs kept for reads: a few hundred covers every epoch a reader meets in practice;
# the age bound means a disabled KMS key version stops decrypting here within 15 minutes.
CACHE_SIZE = 512
CACHE_TTL = 900.0
PRIMARY_TTL = 60.0

_B64_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class VaultError(Internal):
    """A stored value cannot be decrypted: altered, moved, malformed or of an unknown format."""


def field_context(doc_path: str, field: str) -> str:
    """The associated data of a value stored in ``field`` of the document at ``doc_path``."""
    if not doc_path or not field or "#" in doc_path or "#" in field:
        raise ValueError("a vault context needs a document path and a field name without '#'")
    return f"{doc_path}#{field}"


@dataclass(frozen=True)
class _Stored:
    version: str
    wrapped: bytes
    nonce: bytes
    ciphertext: bytes


@dataclass
class _DataKey:
    """The DEK this instance encrypts with, and how much it has been used."""

    version: str
    wrapped: bytes
    aead: AESGCM
    created: float
    uses: int = 0


class Encryptor:
    """Encryptions reserved in advance on one DEK (:meth:`Vault.reserve`): no KMS call is left.

    A caller about to receive something that cannot be asked for twice (a rotated TikTok refresh
    token, an upload URL) reserves its encryptions first, so a KMS outage that starts meanwhile
    cannot leave it holding a secret it is unable to store. The uses were counted against the DEK
    when reserved; using more than reserved is a bug and raises ``ValueError``.
    """

    def __init__(self, key: _DataKey, uses: int) -> None:
        self._key = key
        self._left = uses
        self._lock = threading.Lock()

    def encrypt(self, plaintext: str, *, context: str) -> str:
        with self._lock:
            if self._left <= 0:
                raise ValueError("every encryption reserved on this encryptor was used")
            self._left -= 1
        return _seal(self._key, plaintext, context)


class Vault:
    """Encrypts and decrypts strings bound to a context; safe for concurrent requests."""

    def __init__(
        self,
        kms_client: Any,
        key_name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        kms_timeout: float = KMS_TIMEOUT,
        max_dek_uses: int = MAX_DEK_USES,
        max_dek_age: float = MAX_DEK_AGE,
        cache_size: int = CACHE_SIZE,
        cache_ttl: float = CACHE_TTL,
        primary_ttl: float = PRIMARY_TTL,
    ) -> None:
        self._kms = KeyService(kms_client, key_name, timeout=kms_timeout)
        self.key_name = key_name
        self._clock = clock
        self._max_uses = max_dek_uses
        self._max_age = max_dek_age
        self._cache_size = cache_size
        self._cache_ttl = cache_ttl
        self._primary_ttl = primary_ttl
        self._lock = threading.Lock()  # Guards the state below; never held during a KMS call.
        self._new_key_lock = threading.Lock()  # One KMS Encrypt at a time for a new DEK.
        self._current: _DataKey | None = None
        self._cache: OrderedDict[bytes, tuple[AESGCM, float]] = OrderedDict()
        self._primary: tuple[str, float] | None = None
        self._unwrapping: dict[bytes, threading.Lock] = {}  # DEKs being unwrapped right now

    # -- public API ---------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: str) -> str:
        return self._encrypt(plaintext, context, require_version=None)

    def reserve(self, uses: int, *, hold: float) -> Encryptor:
        """``uses`` encryptions on a DEK that stays within its age bound for ``hold`` seconds.

        ``hold`` is the caller's worst case until its last encryption. The current DEK serves
        when its age and use count leave room for that; otherwise a fresh one is wrapped now,
        so a KMS failure surfaces here (``Unavailable``), before the caller commits to anything.
        A hold longer than the age bound gets a fresh DEK, which then serves those reserved uses
        however long the caller takes: losing the secret would be worse than an older DEK.
        """
        if uses < 1 or hold < 0:
            raise ValueError("a reservation needs at least one use and a non-negative hold")
        return Encryptor(self._data_key(None, uses=uses, hold=hold), uses)

    def decrypt(self, stored: str, *, context: str) -> str:
        parsed = self._parse(stored)
        aead = self._unwrap(parsed.wrapped)
        from cryptography.exceptions import InvalidTag

        try:
            data = aead.decrypt(parsed.nonce, parsed.ciphertext, _aad(parsed.version, context))
        except InvalidTag:
            raise VaultError(
                "a stored value failed to decrypt: it was altered or belongs to another "
                "document or field",
                reason="vault.decrypt_failed",
            ) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError("a stored value is not text", reason="vault.malformed") from None

    def key_version(self, stored: str) -> str:
        """The KMS crypto key version name that wrapped the DEK of ``stored``."""
        return self._parse(stored).version

    def primary_version(self) -> str:
        """The key's primary version name (GetCryptoKey), cached for a minute by default."""
        now = self._clock()
        with self._lock:
            if self._primary and now - self._primary[1] < self._primary_ttl:
                return self._primary[0]
        name = self._kms.primary_version()
        with self._lock:
            self._primary = (name, now)
        return name

    def rewrap(self, stored: str, *, context: str) -> str | None:
        """A new stored value under the primary version, or None if ``stored`` already is."""
        version = self.key_version(stored)
        primary = self.primary_version()
        if version == primary:
            return None
        return self._encrypt(
            self.decrypt(stored, context=context), context, require_version=primary
        )

    # -- internals ----------------------------------------------------------------------------

    def _encrypt(self, plaintext: str, context: str, *, require_version: str | None) -> str:
        return _seal(self._data_key(require_version), plaintext, context)

    def _data_key(
        self, require_version: str | None, *, uses: int = 1, hold: float = 0.0
    ) -> _DataKey:
        """The current DEK with ``uses`` more uses counted, or a freshly wrapped one."""
        usable = self._take_current(require_version, uses, hold)
        if usable:
            return usable
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        with self._new_key_lock:
            # Another thread may have made a new DEK while this one waited.
            usable = self._take_current(require_version, uses, hold)
            if usable:
                return usable
            dek = AESGCM.generate_key(bit_length=256)
            version, wrapped = self._kms.wrap(dek, version=require_version)
            key = _DataKey(version, wrapped, AESGCM(dek), self._clock(), uses=uses)
            with self._lock:
                self._current = key
                self._remember(wrapped, key.aead)
            return key

    def _take_current(self, require_version: str | None, uses: int, hold: float) -> _DataKey | None:
        with self._lock:
            key = self._current
            if (
                key is None
                or key.uses + uses > self._max_uses
                or self._clock() - key.created + hold >= self._max_age
                or (require_version is not None and key.version != require_version)
            ):
                return None
            key.uses += uses
            return key

    def _cached(self, wrapped: bytes) -> AESGCM | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(wrapped)
            if hit and now - hit[1] < self._cache_ttl:
                self._cache.move_to_end(wrapped)
                return hit[0]
        return None

    def _unwrap(self, wrapped: bytes) -> AESGCM:
        aead = self._cached(wrapped)
        if aead is not None:
            return aead
        # One KMS Decrypt per DEK however many threads miss it at once (a fresh instance under
        # load would otherwise ask once per thread). The shared lock is not held meanwhile: a
        # slow KMS stalls only the requests that need this very DEK.
        with self._lock:
            unwrapping = self._unwrapping.setdefault(wrapped, threading.Lock())
        with unwrapping:
            try:
                aead = self._cached(wrapped)
                if aead is None:
                    aead = self._unwrap_with_kms(wrapped)
                    with self._lock:
                        self._remember(wrapped, aead)
                return aead
            finally:
                with self._lock:
                    self._unwrapping.pop(wrapped, None)

    def _unwrap_with_kms(self, wrapped: bytes) -> AESGCM:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            return AESGCM(self._kms.unwrap(wrapped))
        except WrappedKeyInvalid:
            raise VaultError(
                "a stored value failed to decrypt: its data key was altered or is not ours",
                reason="vault.decrypt_failed",
            ) from None

    def _remember(self, wrapped: bytes, aead: AESGCM) -> None:
        """Cache an unwrapped DEK (caller holds the lock), evicting the least recently used."""
        self._cache[wrapped] = (aead, self._clock())
        self._cache.move_to_end(wrapped)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _parse(self, stored: str) -> _Stored:
        malformed = VaultError("a stored value is malformed", reason="vault.malformed")
        if not isinstance(stored, str):
            raise malformed
        parts = stored.split(".")
        if parts[0] != FORMAT:
            raise VaultError("a stored value has an unknown format version", reason="vault.format")
        if len(parts) != 5 or not all(_B64_RE.match(p) for p in parts[1:]):
            raise malformed
        try:
            raw = [_unb64(p) for p in parts[1:]]
            version = raw[0].decode("ascii")
        except (binascii.Error, ValueError):
            raise malformed from None
        if len(raw[2]) != NONCE_BYTES or len(raw[3]) < TAG_BYTES:
            raise malformed
        if not self._kms.owns_version(version):
            raise VaultError(
                "a stored value was wrapped by a key this vault does not use",
                reason="vault.foreign_key",
            )
        return _Stored(version=version, wrapped=raw[1], nonce=raw[2], ciphertext=raw[3])


def _seal(key: _DataKey, plaintext: str, context: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = key.aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(key.version, context))
    fields = (key.version.encode(), key.wrapped, nonce, ciphertext)
    return ".".join((FORMAT, *(_b64(f) for f in fields)))


def _aad(version: str, context: str) -> bytes:
    return b"\x00".join((FORMAT.encode(), version.encode(), context.encode("utf-8")))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
