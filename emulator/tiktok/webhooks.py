"""The fake's webhook delivery (docs/tiktok-api.md §5), signed exactly like TikTok's.

Each publish status change (heard on :attr:`PublishBook.listeners`) and each authorization the user
removes becomes an event POSTed to the configured callback URL (``TIKTOK_WEBHOOK_URL``): body
``{client_key, event, create_time, user_openid, content}`` with ``content`` a JSON document inside
a string, header ``TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client_secret, "{t}.{body}")>``.
Any answer but 200 is retried with exponential backoff, like TikTok's 72 hours but in seconds.

Control (not TikTok): ``GET /_control/webhooks`` is the delivery log; ``POST
/_control/webhooks/config`` sets ``url``, ``hold`` (queue deliveries until released), ``drop``
(log them, never send), ``retry_base_seconds`` and ``max_attempts``; ``POST
/_control/webhooks/release {"ids"?, "reverse"?, "duplicate"?}`` sends held deliveries in a chosen
order, each ``duplicate`` times; ``POST /_control/webhooks/<id>/replay`` sends one again (freshly
signed, same body).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import flask
import httpx

from emulator.tiktok.publishes import FAILED, PUBLISH_COMPLETE, SEND_TO_USER_INBOX, Publish
from emulator.tiktok.state import App

bp = flask.Blueprint("webhooks", __name__, url_prefix="/_control")


@dataclass
class Delivery:
    id: int
    event: str
    body: bytes
    state: str = "queued"  # queued | held | dropped | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)
    due_at: float = 0.0

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "state": self.state,
            "body": json.loads(self.body),
            "attempts": list(self.attempts),
        }


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},s={digest.hexdigest()}"


class Deliverer:
    """Queues, signs and sends webhook events; one background thread retries failures."""

    def __init__(self, app: App, url: str | None) -> None:
        self.app = app
        self.default_url = url
        self.cond = threading.Condition()
        self.http = httpx.Client(timeout=10)
        self.closed = False
        self.reset()
        self.thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stops the sending thread (a delivery on the wire finishes first) and its client; what
        is still queued stays in the log, unsent."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.thread.join(timeout=15)
        self.http.close()

    def __enter__(self) -> Deliverer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        with self.cond:
            self.url = self.default_url
            self.hold = False
            self.drop = False
            self.retry_base = 0.5
            self.max_attempts = 6
            self.deliveries: list[Delivery] = []
            # The queued ones by when they are due, so a busy log costs nothing to wait on: an
            # entry whose delivery has moved on since (sent by a replay, say) is passed over.
            self.queue: list[tuple[float, int, Delivery]] = []

    def emit(self, event: str, open_id: str, content: dict[str, Any]) -> None:
        body = {
            "client_key": self.app.client_key,
            "event": event,
            "create_time": int(time.time()),
            "user_openid": open_id,
            "content": json.dumps(content),
        }
        with self.cond:
            delivery = Delivery(len(self.deliveries) + 1, event, json.dumps(body).encode())
            delivery.state = "dropped" if self.drop else "held" if self.hold else "queued"
            self.deliveries.append(delivery)
            if delivery.state == "queued":
                self._enqueue(delivery)

    def on_status(self, publish: Publish, previous: str) -> None:
        """PublishBook listener: the post.publish.* events a status change fires."""
        kind = "DIRECT_PUBLISH" if publish.mode == "DIRECT_POST" else "INBOX_SHARE"
        base = {"publish_id": publish.publish_id, "publish_type": kind}
        if publish.status == FAILED:
            self.emit(
                "post.publish.failed", publish.open_id, {**base, "reason": publish.fail_reason}
            )
        elif publish.status == SEND_TO_USER_INBOX:
            self.emit("post.publish.inbox_delivered", publish.open_id, base)
        elif publish.status == PUBLISH_COMPLETE:
            self.emit("post.publish.complete", publish.open_id, base)
            for post_id in publish.post_ids:  # sent as strings, as real payloads show (§5.3)
                content = {**base, "post_id": str(post_id)}
                self.emit("post.publish.publicly_available", publish.open_id, content)

    def send(self, delivery: Delivery) -> int:
        """One signed POST now; the HTTP status, or 0 when the URL could not be reached."""
        url = self.url
        if not url:
            status = 0
        else:
            header = sign(self.app.client_secret, delivery.body, int(time.time()))
            try:
                response = self.http.post(
                    url,
                    content=delivery.body,
                    headers={"Content-Type": "application/json", "TikTok-Signature": header},
                )
                status = response.status_code
            except httpx.HTTPError:
                status = 0
        with self.cond:
            delivery.attempts.append({"status": status, "at": time.time()})
            if status == 200:
                delivery.state = "delivered"
            elif len(delivery.attempts) >= self.max_attempts:
                delivery.state = "failed"
            else:
                delivery.state = "queued"
                delivery.due_at = time.time() + self.retry_base * 2 ** (len(delivery.attempts) - 1)
                self._enqueue(delivery)
        return status

    def _enqueue(self, delivery: Delivery) -> None:
        """(holding ``cond``) Sends ``delivery`` once it is due, first due first."""
        heapq.heappush(self.queue, (delivery.due_at, delivery.id, delivery))
        self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                if self.closed:
                    return
                queue = self.queue
                while queue and (
                    queue[0][2].state != "queued" or queue[0][2].due_at != queue[0][0]
                ):
                    heapq.heappop(queue)
                if not queue:
                    self.cond.wait(timeout=1.0)
                    continue
                wait = queue[0][0] - time.time()
                if wait > 0:
                    self.cond.wait(timeout=wait)
                    continue
                delivery = heapq.heappop(queue)[2]
                delivery.state = "sending"
            self.send(delivery)


def deliverer() -> Deliverer:
    found: Deliverer = flask.current_app.extensions["tiktok_webhooks"]
    return found


def _json() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.get("/webhooks")
def log() -> flask.Response:
    hooks = deliverer()
    with hooks.cond:
        return flask.jsonify({"url": hooks.url, "deliveries": [d.view() for d in hooks.deliveries]})


@bp.post("/webhooks/config")
def config() -> flask.Response:
    body = _json()
    hooks = deliverer()
    with hooks.cond:
        if "url" in body:
            hooks.url = body["url"] or None
        for name in ("hold", "drop"):
            if name in body:
                setattr(hooks, name, bool(body[name]))
        if "retry_base_seconds" in body:
            hooks.retry_base = float(body["retry_base_seconds"])
        if "max_attempts" in body:
            hooks.max_attempts = max(1, int(body["max_attempts"]))
        return flask.jsonify({"url": hooks.url, "hold": hooks.hold, "drop": hooks.drop})


@bp.post("/webhooks/release")
def release() -> flask.Response:
    """Send held deliveries now, in the order asked, each ``duplicate`` times; their statuses."""
    body = _json()
    hooks = deliverer()
    with hooks.cond:
        held = [d for d in hooks.deliveries if d.state == "held"]
        by_id = {d.id: d for d in held}
        chosen = [by_id[i] for i in body["ids"] if i in by_id] if "ids" in body else held
        if body.get("reverse"):
            chosen.reverse()
        for delivery in chosen:
            delivery.state = "sending"
    copies = max(1, int(body.get("duplicate", 1)))
    sent = [{"id": d.id, "status": hooks.send(d)} for d in chosen for _ in range(copies)]
    return flask.jsonify({"sent": sent})


@bp.post("/webhooks/<int:delivery_id>/replay")
def replay(delivery_id: int) -> tuple[flask.Response, int] | flask.Response:
    hooks = deliverer()
    with hooks.cond:
        found = next((d for d in hooks.deliveries if d.id == delivery_id), None)
    if found is None:
        return flask.jsonify({"error": "no such delivery"}), 404
    return flask.jsonify({"id": delivery_id, "status": hooks.send(found)})


@bp.post("/users/<open_id>/deauthorize")
def deauthorize(open_id: str) -> tuple[flask.Response, int] | flask.Response:
    """The user removes the app in TikTok's settings: every authorization is revoked, publishes
    still processing fail with ``auth_removed``, and ``authorization.removed`` is sent."""
    from emulator.tiktok.common import world
    from emulator.tiktok.publishes import FINAL

    reason = _json().get("reason", 1)
    state = world()
    with state.lock:
        if open_id not in state.users:
            return flask.jsonify({"error": "no such user"}), 404
        revoked = [a for a in state.authorizations.values() if a.open_id == open_id]
        for auth in revoked:
            state.revoke(auth)
        for publish in list(state.publishes.by_id.values()):
            if publish.open_id == open_id and publish.status not in FINAL:
                state.publishes.fail(publish, "auth_removed")
    deliverer().emit("authorization.removed", open_id, {"reason": reason})
    return flask.jsonify({"revoked": len(revoked)})
