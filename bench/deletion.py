"""Account deletion of a large account: what ``DELETE /api/me`` does inside its budget, and how
long the scheduled job takes to finish the rest.

Starts the Firestore emulator, the fake KMS and the fake TikTok on free ports, seeds one user with
N posts (batched writes), then runs the request's part of the deletion
(``delete_user_data`` with the request budget) and the scheduled part (``finish_deletions`` until
nothing is left, the final sweep included). Prints the request's wall time against the budget
(the target: always under Firebase Hosting's 60 s, whatever N), documents deleted in it, and the
job's runs and time for the rest.

Run: ``.venv/bin/python bench/deletion.py`` (``--posts 10000 50000``, ``--budget 30``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from emulator.stack import Ports, Stack
from shared import runtime
from shared.users.data_rights import delete_user_data
from shared.users.deletion import IN_FLIGHT_BOUND, REQUEST_BUDGET, finish_deletions
from tests.support import deletion_collaborators, wipe_firestore


def seed(uid: str, count: int) -> float:
    db = runtime.firestore_client()
    started = time.perf_counter()
    db.document(f"users/{uid}").set({"uid": uid, "email": "big@example.com"})
    posts = db.collection(f"users/{uid}/posts")
    now = datetime.now(UTC)
    for first in range(0, count, 500):
        batch = db.batch()
        for n in range(first, min(first + 500, count)):
            batch.set(posts.document(f"p{n:06d}"), {"uid": uid, "title": f"post {n}", "at": now})
        batch.commit()
    return time.perf_counter() - started


def measure(stack: Stack, count: int, budget: float) -> str:
    wipe_firestore(stack)
    uid = f"bench-{count}"
    seed_time = seed(uid, count)
    args = deletion_collaborators()
    started = time.perf_counter()
    report = delete_user_data(
        *args, uid=uid, delete_auth_user=lambda _: None, budget_seconds=budget
    )
    request = time.perf_counter() - started
    runs, job_started = 0, time.perf_counter()
    while runtime.firestore_client().document(f"users/{uid}").get().exists and runs < 1000:
        finish_deletions(*args, now=datetime.now(UTC) + IN_FLIGHT_BOUND)
        runs += 1
    job = time.perf_counter() - job_started
    return (
        f"N={count:>6}  seed {seed_time:5.1f} s  request {request:5.1f} s (budget {budget:.0f} s, "
        f"Hosting limit 60 s)  deleted in request {report.deleted_documents:>6}  "
        f"complete {report.complete}  job runs {runs}  job {job:5.1f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="+", default=[10_000])
    parser.add_argument("--budget", type=float, default=REQUEST_BUDGET)
    args = parser.parse_args()
    stack = Stack(ports=Ports.free(), workdir=Path(tempfile.mkdtemp(prefix="bench-deletion-")))
    try:
        stack.start(["firestore", "kms", "tiktok"])
        os.environ.update(stack.env())
        runtime.reset()
        for count in args.posts:
            print(measure(stack, count, args.budget), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
