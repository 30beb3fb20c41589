"""The Firestore client this backend uses: the standard one, with every call bounded in time.

The library's own defaults retry an unreachable Firestore for 60 to 300 seconds (a whole day for
listen streams) before raising, so a request would hang for minutes and then fail anyway. Every
RPC here keeps the library's own retry predicate (which errors are safe to try again) but gives
up after :data:`CALL_BUDGET_SECONDS`, so an outage answers ``503 UNAVAILABLE`` in seconds
(shared/store/outage.py). Transactions keep their own attempts on contention on top of this.
"""

from __future__ import annotations

from typing import Any

from google.api_core import gapic_v1
from google.cloud import firestore
from google.cloud.firestore_v1.services.firestore import client as firestore_client
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport

# One attempt, and all the retries of one call, end within this many seconds: far above a
# healthy call (milliseconds), and above a local emulator's first answers on a loaded machine.
CALL_BUDGET_SECONDS = 15.0


class _BoundedTransport(FirestoreGrpcTransport):
    """The library's gRPC transport, its per-method retry and timeout capped at the budget."""

    def _prep_wrapped_messages(self, client_info: Any) -> None:
        super()._prep_wrapped_messages(client_info)  # type: ignore[no-untyped-call]
        bounded: dict[Any, Any] = {}
        for method, wrapped in self._wrapped_methods.items():
            retry = getattr(wrapped, "_retry", None)
            timeout = getattr(wrapped, "_timeout", None)
            if isinstance(timeout, int | float):
                timeout = min(float(timeout), CALL_BUDGET_SECONDS)
            else:
                timeout = CALL_BUDGET_SECONDS
            bounded[method] = gapic_v1.method.wrap_method(  # type: ignore[no-untyped-call]
                method,
                default_retry=retry.with_timeout(CALL_BUDGET_SECONDS) if retry else None,
                default_timeout=timeout,
                client_info=client_info,
            )
        self._wrapped_methods = bounded


class BoundedClient(firestore.Client):
    """``firestore.Client`` whose calls give up within :data:`CALL_BUDGET_SECONDS`."""

    @property
    def _firestore_api(self) -> Any:
        return self._firestore_api_helper(
            _BoundedTransport, firestore_client.FirestoreClient, firestore_client
        )


def make_client(project: str) -> firestore.Client:
    return BoundedClient(project=project)
