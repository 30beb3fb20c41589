"""Publishing to Pub/Sub and reading the Pub/Sub message inside a CloudEvent.

:class:`PubSub` wraps one ``google.cloud.pubsub_v1.PublisherClient`` (built lazily by
:func:`shared.runtime.pubsub`; it honours ``PUBSUB_EMULATOR_HOST``) and translates its errors,
so services see only the project's errors.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from shared import errors

PUBLISH_TIMEOUT = 30.0

T = TypeVar("T")


class Publishes(Protocol):
    """What a service needs to publish: one message on a topic of this project."""

    def publish(self, topic: str, data: bytes) -> str: ...


class FanOutCounts(Protocol):
    """A run's summary: how many items it published on, in how many batch messages."""

    fanned_out: int
    batches: int


def share_out(
    pages: Iterable[list[T]],
    publisher: Publishes,
    topic: str,
    encode: Callable[[list[T]], bytes],
    summary: FanOutCounts,
    *,
    local_limit: int,
    batch_size: int,
) -> Iterator[list[T]]:
    """A scheduled run's work, shared between this instance and batch messages: page by page, the
    first ``local_limit`` items overall are yielded for this instance to do, after the rest of the
    page is published to ``topic`` in batches of at most ``batch_size`` (a batch never spans two
    pages), so the batch functions start while this one works."""
    room = local_limit
    for page in pages:
        here, remote = page[:room], page[room:]
        room -= len(here)
        for start in range(0, len(remote), batch_size):
            chunk = remote[start : start + batch_size]
            publisher.publish(topic, encode(chunk))
            summary.fanned_out += len(chunk)
            summary.batches += 1
        if here:
            yield here


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

    def publish_all(
        self,
        topic: str,
        messages: list[tuple[bytes, Mapping[str, str]]],
        *,
        timeout: float = PUBLISH_TIMEOUT,
    ) -> list[str | Exception]:
        """Publish several messages at once (the client sends them in one request) and wait for
        each: its message id, or UNAVAILABLE for one that failed."""
        from google.api_core import exceptions as gexc

        path = self._client.topic_path(self._project_id, topic)
        futures = [self._client.publish(path, data, **dict(attrs)) for data, attrs in messages]
        answers: list[str | Exception] = []
        for future in futures:
            try:
                answers.append(str(future.result(timeout=timeout)))
            except (gexc.GoogleAPICallError, TimeoutError) as exc:
                failed = errors.Unavailable(
                    f"publishing to Pub/Sub topic {topic} failed", reason="pubsub.publish_failed"
                )
                failed.__cause__ = exc
                answers.append(failed)
        return answers


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
