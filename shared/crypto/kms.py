"""Cloud KMS at the edge: the client builder and the three calls the vault makes.

:class:`KeyService` wraps and unwraps data keys with KMS Encrypt/Decrypt and reads the primary
version. It follows Google's data-integrity guidance (send CRC32C checksums of what we send, check
the ``verified_*`` acknowledgements and the checksums of what comes back) and fails closed. Every
google.api_core/grpc error is translated here into the project's errors, so nothing above this
module sees a third-party exception. google.cloud.kms is imported only inside functions: a
function that never touches a token must not pay for loading it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.errors import Internal, Unavailable

# Fixed associated data for wrapping data keys: a DEK serves many records, so it cannot carry a
# record's identity; this label keeps a wrapped DEK from being confused with any other KMS
# ciphertext made under the same key.
WRAP_AAD = b"publisher-vault/dek/v1"
DEK_BYTES = 32
UNAVAILABLE_MESSAGE = "the key service is unavailable"
# The whole budget of one KMS call, its retries included: Cloud KMS answers in milliseconds, so
# a call still failing after two seconds is an outage, and the request it serves should say so
# at once (503 with Retry-After) rather than hold the user for longer.
KMS_TIMEOUT = 2.0
# The Retry-After of a 503 caused by KMS: long enough not to hammer it, short for a user.
KMS_RETRY_AFTER = 5.0


class KeyServiceError(Internal):
    """KMS answered, but not with something we can trust or use (integrity, permissions, key)."""


class WrappedKeyInvalid(KeyServiceError):
    """KMS refused to unwrap a data key: the wrapped bytes were altered or are not ours."""


def make_kms_client(emulator_host: str | None) -> Any:
    """The real KeyManagementServiceClient; plain gRPC to ``emulator_host`` when one is given.

    ``client_options.api_endpoint`` alone would still use TLS, so the local fake gets an insecure
    channel through the transport.
    """
    # Imported here, not at the top: loading google.cloud.kms costs a cold start hundreds of
    # milliseconds, and only paths that touch a token build this client.
    from google.cloud import kms

    if not emulator_host:
        return kms.KeyManagementServiceClient()
    import grpc
    from google.cloud.kms_v1.services.key_management_service.transports import (
        KeyManagementServiceGrpcTransport,
    )

    channel = grpc.insecure_channel(emulator_host)
    return kms.KeyManagementServiceClient(
        transport=KeyManagementServiceGrpcTransport(channel=channel)
    )


def crc32c(data: bytes) -> int:
    import google_crc32c

    return int(google_crc32c.value(data))


class KeyService:
    """Encrypt/Decrypt/GetCryptoKey on one crypto key, checked and with errors translated."""

    def __init__(self, client: Any, key_name: str, *, timeout: float = KMS_TIMEOUT) -> None:
        from google.api_core import exceptions, retry

        self._client = client
        self.key_name = key_name
        self._timeout = timeout
        # Retry only what is safe and transient, within the overall budget (the call's timeout
        # is a deadline too: each attempt gets only what remains of it).
        self._retry = retry.Retry(
            predicate=retry.if_exception_type(
                exceptions.ServiceUnavailable, exceptions.TooManyRequests
            ),
            initial=0.05,
            maximum=1.0,
            multiplier=2.0,
            timeout=timeout,
        )

    def owns_version(self, version_name: str) -> bool:
        prefix = f"{self.key_name}/cryptoKeyVersions/"
        return version_name.startswith(prefix) and version_name[len(prefix) :].isdigit()

    def wrap(self, dek: bytes, *, version: str | None = None) -> tuple[str, bytes]:
        """Encrypt a data key with the primary version (or ``version``); return its name, bytes."""
        request = {
            "name": version or self.key_name,
            "plaintext": dek,
            "plaintext_crc32c": crc32c(dek),
            "additional_authenticated_data": WRAP_AAD,
            "additional_authenticated_data_crc32c": crc32c(WRAP_AAD),
        }
        response = self._call(self._client.encrypt, request)
        if not (
            response.verified_plaintext_crc32c
            and response.verified_additional_authenticated_data_crc32c
        ):
            raise KeyServiceError("the key service did not verify the integrity of the request")
        if crc32c(response.ciphertext) != response.ciphertext_crc32c:
            raise KeyServiceError("the key service response failed its integrity check")
        if not self.owns_version(response.name) or (version and response.name != version):
            raise KeyServiceError("the key service answered with an unexpected key version")
        return str(response.name), bytes(response.ciphertext)

    def unwrap(self, wrapped: bytes) -> bytes:
        """Decrypt a wrapped data key; KMS finds the version that wrapped it."""
        request = {
            "name": self.key_name,
            "ciphertext": wrapped,
            "ciphertext_crc32c": crc32c(wrapped),
            "additional_authenticated_data": WRAP_AAD,
            "additional_authenticated_data_crc32c": crc32c(WRAP_AAD),
        }
        response = self._call(self._client.decrypt, request, invalid=WrappedKeyInvalid)
        dek = bytes(response.plaintext)
        if crc32c(dek) != response.plaintext_crc32c:
            raise KeyServiceError("the key service response failed its integrity check")
        if len(dek) != DEK_BYTES:
            raise WrappedKeyInvalid("the unwrapped data key has the wrong length")
        return dek

    def primary_version(self) -> str:
        response = self._call(self._client.get_crypto_key, {"name": self.key_name})
        name = str(response.primary.name)
        if not self.owns_version(name):
            raise KeyServiceError("the key has no usable primary version")
        return name

    def _call(
        self,
        method: Callable[..., Any],
        request: dict[str, Any],
        *,
        invalid: type[KeyServiceError] = KeyServiceError,
    ) -> Any:
        try:
            return method(request=request, retry=self._retry, timeout=self._timeout)
        except Exception as exc:
            translated = _translate(exc, invalid)
            if translated is None:
                raise
            raise translated from exc


def _translate(exc: Exception, invalid: type[KeyServiceError]) -> Exception | None:
    """The project error for a google.api_core/grpc error (no secrets); None for anything else."""
    import grpc
    from google.api_core import exceptions

    transient = (
        exceptions.ServiceUnavailable,
        exceptions.DeadlineExceeded,
        exceptions.TooManyRequests,
        exceptions.InternalServerError,
        exceptions.Unknown,
        exceptions.Aborted,
        exceptions.RetryError,
        grpc.RpcError,
    )
    if isinstance(exc, transient):
        return Unavailable(
            UNAVAILABLE_MESSAGE, reason="kms.unavailable", retry_after=KMS_RETRY_AFTER
        )
    if isinstance(exc, exceptions.InvalidArgument):
        return invalid("the key service rejected the request as invalid")
    if isinstance(exc, exceptions.GoogleAPICallError):
        code = getattr(exc, "grpc_status_code", None)
        label = code.name if code is not None else type(exc).__name__
        return KeyServiceError(f"the key service refused the request ({label})")
    return None
