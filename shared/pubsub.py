"""Publishing to Pub/Sub and reading the Pub/Sub message inside a CloudEvent.

:class:`PubSub` wraps one ``google.cloud.pubsub_v1.PublisherClient`` (built lazily by
:func:`shared.runtime.pubsub`; it honours ``PUBSUB_EMULATOR_HOST``) and translates its errors,
so services see only the project's errors.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, Protocol

from shared import errors

PUBLISH_TIMEOUT = 30.0


class Publishes(Protocol):
    """What a service needs to publish: one message on a topic of this project."""

    def publish(self, topic: str, data: bytes) -> str: ...


class PubSub:
    """Publishes to topics of one project; safe to share between threads."""

    def __init__(self, client: Any, project_id: str) -> None:
        self._client = client
        self._project_id = project_id

    def publish(
        self,
        topic: str,
        data: bytes,
        attributes: Mapping[str, str] | None = None,
        *,
        timeout: float = PUBLISH_TIMEOUT,
    ) -> str:
        """Publish and wait for the server's message id (raises UNAVAILABLE on failure)."""
        from google.api_core import exceptions as gexc

        path = self._client.topic_path(self._project_id, topic)
        try:
            future = self._client.publish(path, data, **dict(attributes or {}))
            message_id: str = future.result(timeout=timeout)
        except (gexc.GoogleAPICallError, TimeoutError) as exc:
            raise errors.Unavailable(
                f"publishing to Pub/Sub topic {topic} failed", reason="pubsub.publish_failed"
            ) from exc
        return message_id


def make_publisher_client() -> Any:
    # Imported here, not at the top: google.cloud.pubsub is heavy, and an HTTP function needs it
    # only once it has a status change to announce (shared/store/outbox.py).
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    return pubsub_v1.PublisherClient()


def message_data(event_data: Mapping[str, Any] | None) -> bytes:
    """The payload of the Pub/Sub message a CloudEvent carries (``data.message.data``)."""
    message = (event_data or {}).get("message")
    if not isinstance(message, Mapping):
        raise errors.InvalidArgument("the event carries no Pub/Sub message")
    raw = message.get("data") or ""
    if not isinstance(raw, str):
        raise errors.InvalidArgument("the Pub/Sub message data is not base64 text")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidArgument("the Pub/Sub message data is not base64") from exc
