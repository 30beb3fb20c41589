"""The local Pub/Sub wiring: topics, and push subscriptions delivering to the CloudEvent functions.

In Cloud, Eventarc subscribes each Pub/Sub-triggered function to its topic. Locally the Pub/Sub
emulator pushes each message to the dev server at ``/_events/<function>/projects/<p>/topics/<t>``
(functions-framework reads the topic from that path and turns the push body into the same
CloudEvent Eventarc delivers). Everything here uses the emulator's REST API, which needs no client
library.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

import httpx

from shared.jobs import OUTPUT_TOPICS, event_jobs

# CloudEvent function -> the topic that triggers it (the jobs table, shared/jobs.py).
EVENT_FUNCTIONS: Mapping[str, str] = {j.function: j.topic for j in event_jobs() if j.topic}
EVENTS_PREFIX = "/_events/"
# As long as a function may run (Cloud Functions sets the deadline to the function's timeout), so
# a long run is not redelivered while it is still working.
ACK_DEADLINE_SECONDS = 600


def push_endpoint(functions_url: str, function: str, project_id: str) -> str:
    topic = EVENT_FUNCTIONS[function]
    return f"{functions_url}{EVENTS_PREFIX}{function}/projects/{project_id}/topics/{topic}"


class PubSubEmulator:
    """Topics, subscriptions and publishing on the Pub/Sub emulator at ``host`` (host:port)."""

    def __init__(self, host: str, project_id: str) -> None:
        self.project_id = project_id
        self.http = httpx.Client(base_url=f"http://{host}/v1/projects/{project_id}", timeout=10)

    def __enter__(self) -> PubSubEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _put(self, path: str, body: dict[str, object]) -> None:
        response = self.http.put(path, json=body)
        if response.status_code != 409:  # Already there: wiring is idempotent.
            response.raise_for_status()

    def wire(self, functions_url: str) -> None:
        """Create every topic and a push subscription to each CloudEvent function; the output
        topics (``publisher-events``) get no subscription: their readers are the operator's."""
        for topic in OUTPUT_TOPICS:
            self._put(f"/topics/{topic}", {})
        for function, topic in EVENT_FUNCTIONS.items():
            self._put(f"/topics/{topic}", {})
            self._put(
                f"/subscriptions/{function}-push",
                {
                    "topic": f"projects/{self.project_id}/topics/{topic}",
                    "pushConfig": {
                        "pushEndpoint": push_endpoint(functions_url, function, self.project_id)
                    },
                    "ackDeadlineSeconds": ACK_DEADLINE_SECONDS,
                },
            )

    def publish(self, topic: str, data: bytes, attributes: Mapping[str, str] | None = None) -> str:
        """Publish one message, as Cloud Scheduler does; returns its message id."""
        message: dict[str, object] = {"data": base64.b64encode(data).decode()}
        if attributes:
            message["attributes"] = dict(attributes)
        response = self.http.post(f"/topics/{topic}:publish", json={"messages": [message]})
        response.raise_for_status()
        message_id: str = response.json()["messageIds"][0]
        return message_id
