"""What the project deploys: each function of the jobs table (``shared/jobs.py``) with the
resources it runs with, plus the fixed names of the other resources.

Adding a Cloud Function is one row in ``shared/jobs.py`` (its trigger, topic and schedule), its
export in ``main.py``, and here its resources when the defaults do not fit.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.jobs import JOBS, OUTPUT_TOPICS, Job, published_topics

ROOT = Path(__file__).resolve().parent.parent

HTTP = "http"
# Every topic a function is triggered by or publishes to, created before the functions.
TOPICS = (*(job.topic for job in JOBS if job.topic is not None), *OUTPUT_TOPICS)
PUBLISHED_TOPICS = published_topics()  # the runtime account may publish only to these


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function: its entry point in ``main.py`` is its name."""

    name: str
    trigger: str  # HTTP, or the Pub/Sub topic that triggers it
    memory: str = "512Mi"
    cpu: str = "1"
    timeout: str = "60s"
    concurrency: int = 40
    max_instances: int = 20
    schedule: str | None = None  # Cloud Scheduler publishes to ``trigger`` on this cron

    @property
    def is_http(self) -> bool:
        return self.trigger == HTTP

    @classmethod
    def of(cls, job: Job, **resources: Any) -> FunctionSpec:
        return cls(job.function, job.topic or HTTP, schedule=job.schedule, **resources)


# Firebase Hosting ends a rewritten request after 60 seconds, whatever the function's own timeout
# (https://firebase.google.com/docs/hosting/functions), so an HTTP function behind it gains nothing
# from a longer one: past 60 s the caller already has Hosting's 504.
HOSTING_TIMEOUT = "60s"
# A Pub/Sub-triggered function's run is bounded by TikTok, not by us: a batch of 100 accounts at
# concurrency 16 is 7 waves of token calls; each call is cut at 25 s (5 s connect + 20 s read,
# shared/tiktok/client.py), so 7 x 25 s = 175 s when every first attempt hangs, and 300 s leaves
# room for one retry wave and the Firestore writes. Measured healthy: 1,000 accounts in 11.3 s.
EVENT_TIMEOUT = "300s"

# Memory and concurrency (the defaults, 512Mi and 40): before a request is authenticated it holds
# at most its body limit plus 64 KiB pieces of the discarded rest (shared/web/bodies.py). Measured
# in-process through functions-framework (tests/unit/test_bodies.py): a refused 96 MiB body peaks
# under 0.6 MiB, where it took 205 MB before. An idle instance is about 136 MB, so 40 requests at
# ~1 MiB each stay far inside 512 MiB; bodies no longer bound concurrency.
RESOURCES: dict[str, dict[str, Any]] = {
    "session": {"timeout": HOSTING_TIMEOUT},
    "tiktok_oauth": {"timeout": HOSTING_TIMEOUT},
    "accounts": {"timeout": HOSTING_TIMEOUT},
    # A chunk relay streams one chunk (at most PUBLISH_CHUNK_LIMIT_BYTES) in 1 MiB pieces; the
    # chunk plan keeps every chunk small enough to arrive within Hosting's 60 s at 5 Mbps.
    "publish_init": {"memory": "1Gi", "timeout": HOSTING_TIMEOUT, "concurrency": 8},
    "publish_status": {"timeout": HOSTING_TIMEOUT},
    # /media/ streams each download through a 1 MiB buffer (bench/media.py measures its memory);
    # TikTok's pulls are I/O bound, so one instance serves many at once. A PNG/HEIC conversion
    # on completion holds up to ~200 MB, one at a time per instance (shared/media/convert.py).
    "media": {"timeout": HOSTING_TIMEOUT, "concurrency": 20},
    # One scheduled run at a time; batches are few and each refresh is I/O bound.
    "refresh_tokens": {"timeout": EVENT_TIMEOUT, "concurrency": 1, "max_instances": 1},
    "refresh_batch": {"timeout": EVENT_TIMEOUT, "concurrency": 4, "max_instances": 10},
    # One sweep at a time: up to 200 posts a run, each at most one TikTok status call; a run cut
    # short by the timeout leaves the rest to the next run.
    "sweep_status": {"timeout": EVENT_TIMEOUT, "concurrency": 1, "max_instances": 1},
    # Like the refresh: one daily run at a time, which snapshots 200 accounts (each about six
    # TikTok reads) and fans the rest out in batches of 100.
    "analytics_snapshot": {"timeout": EVENT_TIMEOUT, "concurrency": 1, "max_instances": 1},
    "analytics_snapshot_batch": {"timeout": EVENT_TIMEOUT, "concurrency": 4, "max_instances": 10},
    # Every minute: sends 50 accounts' due posts here (each at most 6 inits of 100 ms to a few
    # seconds, and their creator info) and fans the rest out; a slow run overlapping the next
    # minute's is harmless (account leases), but one run at a time keeps the fan-out single.
    # 2 vCPUs and one batch per instance: 16 accounts in flight cost ~16 x 10 ms of CPU per
    # 100 ms TikTok init (bench/schedule.py), 1.6 vCPUs, so an instance waits on TikTok, not on
    # its CPU (docs/scheduling.md, Measured); 40 instances keep 640 accounts in flight.
    "publish_scheduled": {
        "cpu": "2",
        "timeout": EVENT_TIMEOUT,
        "concurrency": 1,
        "max_instances": 1,
    },
    "publish_scheduled_batch": {
        "cpu": "2",
        "timeout": EVENT_TIMEOUT,
        "concurrency": 1,
        "max_instances": 40,
    },
}

FUNCTIONS: tuple[FunctionSpec, ...] = tuple(
    FunctionSpec.of(job, **RESOURCES.get(job.function, {})) for job in JOBS
)

# Collection groups whose documents carry ``expire_at``: a TTL policy deletes them after expiry.
# The code never relies on TTL having run (every read checks ``expire_at`` itself).
TTL_FIELD = "expire_at"
TTL_COLLECTION_GROUPS = (
    "oauth_states",
    "drafts",
    "idempotency",
    "leases",
    "webhook_events",
    "poll_budgets",
    "sessions",
    "media",
    "analytics",
    "event_outbox",
)

SECRETS = {
    # environment variable in the functions -> Secret Manager secret id
    "TIKTOK_CLIENT_SECRET": "tiktok-client-secret",
    "SESSION_SECRETS": "session-secrets",
    "MEDIA_URL_SECRETS": "media-url-secrets",
}

RUNTIME_ACCOUNT = "publisher-functions"  # what the functions run as
EVENTS_ACCOUNT = "publisher-events"  # what Eventarc pushes Pub/Sub messages as
BUILD_ACCOUNT = "publisher-build"  # what Cloud Build builds the functions' images as

# Upload exactly these: the deploy entry module, the functions, their library, the pins.
SOURCE_FILES = ("main.py", "requirements.txt")
SOURCE_PACKAGES = ("functions", "shared")


def main_exports(root: Path = ROOT) -> tuple[str, ...]:
    """The names in ``main.__all__``, read without importing ``main`` (no dependencies needed)."""
    tree = ast.parse((root / "main.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            return tuple(str(name) for name in value)
    raise ValueError("main.py has no __all__ listing its entry points")
