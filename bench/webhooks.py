"""1,000 signed TikTok webhook events against the dev server: throughput, latency, correctness.

Starts the Firestore emulator and the functions dev server as real processes on free ports, seeds
posts directly in Firestore (each ``PROCESSING_DOWNLOAD`` with its publish-id pointer, as init
leaves them), then sends ``--events`` deliveries signed exactly like TikTok's
(``TikTok-Signature: t=…,s=HMAC-SHA256(client_secret, "{t}.{body}")``) to
``POST /api/webhooks/tiktok`` from ``--concurrency`` threads. 20% of the deliveries repeat an
earlier body (TikTok's at-least-once retries); for about a third of the posts the events are sent
in the wrong order (``publicly_available`` before ``complete``, ``complete`` before
``inbox_delivered``, a late ``inbox_delivered`` after a failure). Each post's plan fixes its right
final state: ``PUBLISH_COMPLETE`` with its post id, ``FAILED`` with TikTok's reason, or
``SEND_TO_USER_INBOX``. The run fails unless every answer is 200, every post ends in its state and
there is exactly one receipt per distinct event.

Run: ``.venv/bin/python bench/webhooks.py`` (``--events 1000 --concurrency 16``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from emulator.stack import Ports, Stack
from emulator.tiktok.webhooks import sign
from shared import runtime
from shared.store.pointers import PUBLISH_IDS, pointer_id
from shared.store.receipts import WEBHOOK_EVENTS

UID = "bench-user"
OPEN_ID = "bench-open-id"


def plan_posts(unique: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Posts with their expected final state, and ``unique`` distinct event bodies for them."""
    posts: list[dict[str, Any]] = []
    bodies: list[bytes] = []
    n = 0
    while len(bodies) < unique:
        n += 1
        publish_id = f"v_pub_url~v2-1.{7_300_000_000_000_000_000 + n}"
        kind = rng.choices(["public", "failed", "inbox_posted", "inbox"], [5, 2, 2, 1])[0]
        reordered = rng.random() < 0.35
        post_id = str(2**53 + 1 + rng.randrange(2**62))
        expected: tuple[str, str | None, list[str]]
        base = {"publish_id": publish_id, "publish_type": "DIRECT_PUBLISH"}
        if kind == "public":
            events = [("post.publish.complete", base)]
            events.append(("post.publish.publicly_available", {**base, "post_id": post_id}))
            expected = ("PUBLISH_COMPLETE", None, [post_id])
        elif kind == "failed":
            events = [("post.publish.failed", {**base, "reason": "spam_risk_text"})]
            if reordered:  # a stale lower status arriving after the failure changes nothing
                events.append(("post.publish.inbox_delivered", base))
            expected = ("FAILED", "spam_risk_text", [])
        elif kind == "inbox_posted":
            inbox = {**base, "publish_type": "INBOX_SHARE"}
            events = [("post.publish.inbox_delivered", inbox), ("post.publish.complete", inbox)]
            expected = ("PUBLISH_COMPLETE", None, [])
        else:
            events = [("post.publish.inbox_delivered", {**base, "publish_type": "INBOX_SHARE"})]
            expected = ("SEND_TO_USER_INBOX", None, [])
        if reordered and kind != "failed":
            events.reverse()
        posts.append({"id": f"post{n:05d}", "publish_id": publish_id, "expected": expected})
        for k, (event, content) in enumerate(events):
            body = {
                "client_key": "local-client-key",
                "event": event,
                "create_time": int(time.time()) + k,
                "user_openid": OPEN_ID,
                "content": json.dumps(content),
            }
            bodies.append(json.dumps(body).encode())
    return posts, bodies[:unique]


def seed(posts: list[dict[str, Any]]) -> None:
    db = runtime.firestore_client()
    now = datetime.now(UTC)
    for start in range(0, len(posts), 400):
        batch = db.batch()
        for post in posts[start : start + 400]:
            doc = {
                "uid": UID,
                "post_id": post["id"],
                "open_id": OPEN_ID,
                "publish_id": post["publish_id"],
                "status": "PROCESSING_DOWNLOAD",
                "fail_reason": None,
                "post_ids": [],
                "created_at": now,
                "updated_at": now,
            }
            batch.set(db.document(f"users/{UID}/posts/{post['id']}"), doc)
            pointer = {"publish_id": post["publish_id"], "uid": UID, "post_id": post["id"]}
            batch.set(db.collection(PUBLISH_IDS).document(pointer_id(post["publish_id"])), pointer)
        batch.commit()


def send_all(
    url: str, secret: str, deliveries: list[bytes], concurrency: int
) -> tuple[list[float], Counter[str], float]:
    http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=concurrency))
    outcomes: Counter[str] = Counter()

    def one(body: bytes) -> float:
        started = time.perf_counter()
        response = http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "TikTok-Signature": sign(secret, body, int(time.time())),
            },
        )
        elapsed = time.perf_counter() - started
        outcome = response.json().get("outcome") if response.status_code == 200 else None
        outcomes[outcome or f"HTTP {response.status_code}"] += 1
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(one, deliveries))
    wall = time.perf_counter() - started
    http.close()
    return latencies, outcomes, wall


def check(posts: list[dict[str, Any]], unique: int) -> list[str]:
    db = runtime.firestore_client()
    wrong = []
    for post in posts:
        doc = db.document(f"users/{UID}/posts/{post['id']}").get().to_dict() or {}
        got = (doc.get("status"), doc.get("fail_reason"), doc.get("post_ids"))
        if got != tuple(post["expected"]):
            wrong.append(f"{post['id']}: expected {post['expected']}, got {got}")
    receipts = sum(1 for _ in db.collection(WEBHOOK_EVENTS).select([]).stream())
    if receipts != unique:
        wrong.append(f"{receipts} receipts for {unique} distinct events")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stack = Stack(ports=Ports.free(), workdir=Path(tempfile.mkdtemp(prefix="bench-webhooks-")))
    try:
        stack.start(["firestore", "functions"])
        os.environ.update(stack.env())
        runtime.reset()
        unique = round(args.events * (1 - args.duplicates))
        posts, bodies = plan_posts(unique, rng)
        seed(posts)
        # Duplicates land anywhere after their first delivery, like TikTok's retries.
        deliveries = list(bodies)
        for _ in range(args.events - unique):
            first = rng.randrange(len(bodies))
            position = rng.randrange(first + 1, len(deliveries) + 1)
            deliveries.insert(position, bodies[first])
        url = f"{stack.functions_url}/api/webhooks/tiktok"
        send_all(url, stack.tiktok_client_secret, [b"{}"] * 4, 2)  # warm the dev server
        latencies, outcomes, wall = send_all(
            url, stack.tiktok_client_secret, deliveries, args.concurrency
        )
        wrong = check(posts, unique)
    finally:
        stack.stop()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{len(deliveries)} deliveries ({unique} distinct, {len(deliveries) - unique} repeated) "
        f"for {len(posts)} posts, concurrency {args.concurrency}"
    )
    print(f"throughput: {len(deliveries) / wall:.0f} events/s ({wall:.2f} s)")
    print(f"latency ms: p50 {statistics.median(ms):.1f}  p99 {p99:.1f}  max {ms[-1]:.1f}")
    print(f"outcomes: {dict(sorted(outcomes.items()))}")
    if wrong:
        print(f"WRONG final states ({len(wrong)}):", *wrong[:10], sep="\n  ")
        return 1
    print(f"every post ended in its right final state; {unique} receipts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
