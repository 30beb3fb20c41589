"""The gRPC face of the fake KMS: KeyManagementService methods and a control service.

Handlers are registered with ``grpc.method_handlers_generic_handler`` and (de)serialise with the
proto-plus types of google-cloud-kms, so no generated service stubs are needed. CRC32C integrity
fields are handled as Cloud KMS documents them: a checksum sent with a request is verified
(mismatch -> INVALID_ARGUMENT) and acknowledged with a ``verified_*`` flag, and every response
carries the checksum of the bytes it returns.

The control service (``/publisher.kms.Control/<Method>``, JSON bytes in and out) lets tests read
per-method call counts, reset them, make the server refuse calls with UNAVAILABLE, and corrupt the
integrity fields of the next responses. Nothing secret (plaintext, key material) is ever logged.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import google_crc32c
import grpc
from google.cloud import kms_v1

from emulator.kms.keyring import KeyInfo, KeyStore, KmsFault

SERVICE = "google.cloud.kms.v1.KeyManagementService"
CONTROL_SERVICE = "publisher.kms.Control"


def crc32c(data: bytes) -> int:
    return int(google_crc32c.value(data))


@dataclass
class Faults:
    """Failures to inject, changed through the control service."""

    unavailable: bool = False
    corrupt_checksums: int = 0  # The next N responses carry a wrong ciphertext/plaintext CRC32C.
    drop_verified: int = 0  # The next N Encrypt responses claim nothing was verified.


class FakeKms:
    """The servicer: one key store, call counters and injected faults behind one lock."""

    def __init__(self) -> None:
        self.keys = KeyStore()
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._faults = Faults()

    # -- KeyManagementService -------------------------------------------------------------------

    def encrypt(self, request: Any) -> Any:
        _check_crc(request, "plaintext", "plaintext_crc32c")
        _check_crc(request, "additional_authenticated_data", "additional_authenticated_data_crc32c")
        version, ciphertext = self.keys.encrypt(
            request.name, request.plaintext, request.additional_authenticated_data
        )
        checksum = crc32c(ciphertext)
        verified = True
        with self._lock:
            if self._faults.corrupt_checksums:
                self._faults.corrupt_checksums -= 1
                checksum ^= 1
            if self._faults.drop_verified:
                self._faults.drop_verified -= 1
                verified = False
        return kms_v1.EncryptResponse(
            name=version,
            ciphertext=ciphertext,
            ciphertext_crc32c=checksum,
            verified_plaintext_crc32c=verified and "plaintext_crc32c" in request,
            verified_additional_authenticated_data_crc32c=(
                verified and "additional_authenticated_data_crc32c" in request
            ),
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
        )

    def decrypt(self, request: Any) -> Any:
        _check_crc(request, "ciphertext", "ciphertext_crc32c")
        _check_crc(request, "additional_authenticated_data", "additional_authenticated_data_crc32c")
        plaintext, used_primary = self.keys.decrypt(
            request.name, request.ciphertext, request.additional_authenticated_data
        )
        checksum = crc32c(plaintext)
        with self._lock:
            if self._faults.corrupt_checksums:
                self._faults.corrupt_checksums -= 1
                checksum ^= 1
        return kms_v1.DecryptResponse(
            plaintext=plaintext,
            plaintext_crc32c=checksum,
            used_primary=used_primary,
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
        )

    def get_crypto_key(self, request: Any) -> Any:
        return _crypto_key(self.keys.info(request.name))

    def create_crypto_key_version(self, request: Any) -> Any:
        return kms_v1.CryptoKeyVersion(
            name=self.keys.create_version(request.parent),
            state=kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED,
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
            algorithm=_ALGORITHM,
        )

    def update_crypto_key_primary_version(self, request: Any) -> Any:
        info = self.keys.set_primary(request.name, request.crypto_key_version_id)
        return _crypto_key(info)

    # -- control --------------------------------------------------------------------------------

    def stats(self, _: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"calls": dict(self._calls), "total": sum(self._calls.values())}

    def reset(self, _: dict[str, Any]) -> dict[str, Any]:
        """Zero the counters and clear injected faults; keys survive."""
        with self._lock:
            self._calls.clear()
            self._faults = Faults()
        return {}

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if "unavailable" in body:
                self._faults.unavailable = bool(body["unavailable"])
            if "corrupt_checksums" in body:
                self._faults.corrupt_checksums = int(body["corrupt_checksums"])
            if "drop_verified" in body:
                self._faults.drop_verified = int(body["drop_verified"])
        return {}

    # -- plumbing -------------------------------------------------------------------------------

    def _admit(self, method: str) -> bool:
        """Count the call; return False when the server is told to refuse calls."""
        with self._lock:
            self._calls[method] += 1
            return not self._faults.unavailable

    def kms_handler(
        self, method: str, fn: Callable[[Any], Any], request_type: Any, response_type: Any
    ) -> grpc.RpcMethodHandler:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            if not self._admit(method):
                context.abort(grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.")
            try:
                return fn(request)
            except KmsFault as fault:
                context.abort(fault.code, fault.message)

        return grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=request_type.deserialize,
            response_serializer=response_type.serialize,
        )

    def generic_handlers(self) -> list[grpc.GenericRpcHandler]:
        kms = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                name: self.kms_handler(name, fn, req, resp)
                for name, fn, req, resp in (
                    ("Encrypt", self.encrypt, kms_v1.EncryptRequest, kms_v1.EncryptResponse),
                    ("Decrypt", self.decrypt, kms_v1.DecryptRequest, kms_v1.DecryptResponse),
                    (
                        "GetCryptoKey",
                        self.get_crypto_key,
                        kms_v1.GetCryptoKeyRequest,
                        kms_v1.CryptoKey,
                    ),
                    (
                        "CreateCryptoKeyVersion",
                        self.create_crypto_key_version,
                        kms_v1.CreateCryptoKeyVersionRequest,
                        kms_v1.CryptoKeyVersion,
                    ),
                    (
                        "UpdateCryptoKeyPrimaryVersion",
                        self.update_crypto_key_primary_version,
                        kms_v1.UpdateCryptoKeyPrimaryVersionRequest,
                        kms_v1.CryptoKey,
                    ),
                )
            },
        )
        control = grpc.method_handlers_generic_handler(
            CONTROL_SERVICE,
            {
                name: grpc.unary_unary_rpc_method_handler(
                    _json_method(fn), request_deserializer=None, response_serializer=None
                )
                for name, fn in (
                    ("Stats", self.stats),
                    ("Reset", self.reset),
                    ("Configure", self.configure),
                )
            },
        )
        return [kms, control]


_ALGORITHM = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm.GOOGLE_SYMMETRIC_ENCRYPTION


def _crypto_key(info: KeyInfo) -> Any:
    return kms_v1.CryptoKey(
        name=info.name,
        purpose=kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
        primary=kms_v1.CryptoKeyVersion(
            name=info.primary_version,
            state=kms_v1.CryptoKeyVersion.CryptoKeyVersionState.ENABLED,
            protection_level=kms_v1.ProtectionLevel.SOFTWARE,
            algorithm=_ALGORITHM,
        ),
    )


def _check_crc(request: Any, data_field: str, crc_field: str) -> None:
    """Verify a request checksum when the caller sent one, as Cloud KMS does."""
    if crc_field in request and crc32c(getattr(request, data_field)) != getattr(request, crc_field):
        raise KmsFault(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"The checksum in field {crc_field} did not match the data in field {data_field}.",
        )


def _json_method(
    fn: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[[bytes, grpc.ServicerContext], bytes]:
    def handle(request: bytes, context: grpc.ServicerContext) -> bytes:
        body = json.loads(request or b"{}")
        return json.dumps(fn(body)).encode()

    return handle


def build_server(host: str, port: int, *, workers: int = 16) -> tuple[grpc.Server, FakeKms]:
    """A (not yet started) gRPC server bound to host:port, and its servicer."""
    servicer = FakeKms()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers(servicer.generic_handlers())
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"cannot bind the fake KMS to {host}:{port}")
    return server, servicer
