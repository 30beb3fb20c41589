"""The fake TikTok's webhook delivery retries like TikTok (docs/tiktok-api.md §5): an answer that is
not 200 is sent again after a growing wait, and a delivery waiting for its retry does not hold up
newer events. ``close()`` stops the sending thread. A real HTTP receiver on a free port answers;
nothing is mocked."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from emulator.tiktok.state import App
from emulator.tiktok.webhooks import Deliverer
from tests.support import serve_http


class Receiver:
    """Answers each event with the next of its statuses (200 once they run out)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[int]] = {}
        self.received: list[tuple[float, str]] = []  # (when, the event's content)
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner.lock:
                    owner.received.append((time.monotonic(), body["content"]))
                    queue = owner.answers.get(body["content"], [])
                    status = queue.pop(0) if queue else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.handler: type[BaseHTTPRequestHandler] = Handler
        self.url = ""  # where the hook is served, once it is

    def times_of(self, content: dict[str, Any]) -> list[float]:
        with self.lock:
            return [at for at, body in self.received if body == json.dumps(content)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    with serve_http(receiving.handler) as base:
        receiving.url = base + "/hook"
        yield receiving


@pytest.fixture
def hooks(receiver: Receiver) -> Iterator[Deliverer]:
    with Deliverer(App("key", "secret", "http://127.0.0.1/cb"), receiver.url) as deliverer:
        yield deliverer


def settle(hooks: Deliverer, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with hooks.cond:
            views = [d.view() for d in hooks.deliveries]
        if len(views) == count and all(v["state"] in ("delivered", "failed") for v in views):
            return views
        time.sleep(0.02)
    raise AssertionError(f"deliveries did not settle: {views}")


def test_a_refused_event_is_sent_again_after_growing_waits_until_it_is_taken(
    receiver: Receiver, hooks: Deliverer
) -> None:
    hooks.retry_base = 0.1
    content = {"publish_id": "p1"}
    receiver.answers[json.dumps(content)] = [500, 503]
    hooks.emit("post.publish.complete", "open-1", content)
    [view] = settle(hooks, 1)
    assert view["state"] == "delivered"
    assert [a["status"] for a in view["attempts"]] == [500, 503, 200]
    first, second, third = receiver.times_of(content)
    assert second - first >= 0.1  # retry_base, then twice it
    assert third - second >= 0.2


def test_an_event_waiting_for_its_retry_does_not_hold_up_newer_ones(
    receiver: Receiver, hooks: Deliverer
) -> None:
    hooks.retry_base = 1.0
    refused, later = {"publish_id": "refused"}, {"publish_id": "later"}
    receiver.answers[json.dumps(refused)] = [500]
    hooks.emit("post.publish.failed", "open-1", refused)
    while not receiver.times_of(refused):
        time.sleep(0.01)
    hooks.emit("post.publish.complete", "open-1", later)
    views = settle(hooks, 2)
    assert [v["state"] for v in views] == ["delivered", "delivered"]
    [sent_later] = receiver.times_of(later)
    first, retried = receiver.times_of(refused)
    assert sent_later < retried  # the newer event went while the refused one waited its second
    assert retried - first >= 1.0


def test_after_too_many_refusals_the_event_is_given_up(
    receiver: Receiver, hooks: Deliverer
) -> None:
    hooks.retry_base, hooks.max_attempts = 0.02, 3
    content = {"publish_id": "never"}
    receiver.answers[json.dumps(content)] = [500] * 10
    hooks.emit("post.publish.complete", "open-1", content)
    [view] = settle(hooks, 1)
    assert view["state"] == "failed"
    assert [a["status"] for a in view["attempts"]] == [500, 500, 500]


def test_a_closed_deliverer_stops_its_thread_and_sends_nothing_more(
    receiver: Receiver, hooks: Deliverer
) -> None:
    hooks.emit("post.publish.complete", "open-1", {"publish_id": "before"})
    settle(hooks, 1)
    hooks.close()
    assert not hooks.thread.is_alive()
    hooks.emit("post.publish.complete", "open-1", {"publish_id": "after"})
    time.sleep(0.3)
    assert receiver.times_of({"publish_id": "after"}) == []
    with hooks.cond:
        assert [d.state for d in hooks.deliveries] == ["delivered", "queued"]
