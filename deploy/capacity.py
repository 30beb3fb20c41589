"""Capacity and cost model: what the deployment does and costs at a given scale.

Every figure in ``docs/capacity.md``'s tables is computed here from the inputs below (this
project's benchmark results, TikTok's documented limits, the deploy table's function settings,
and Google Cloud list prices), so the document cannot drift from them:
``python -m deploy.capacity`` prints the tables, and a test checks the document holds exactly
that. Change an input, run it, and paste the output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from deploy.table import FUNCTIONS

# --- Measured by this project's benchmarks (README, Benchmarks) ----------------------------------
REFRESH_BENCH_ACCOUNTS = 1_000  # bench/refresh.py: 1,000 accounts refreshed ...
REFRESH_BENCH_SECONDS = 11.3  # ... in 11.3 s at concurrency 16 with 100 ms TikTok latency
TOKEN_OPS_PER_KMS_CALL = 1_000  # bench/vault_kms.py: 1 KMS call per 1,000 token reads/writes
WEBHOOK_EVENTS_PER_SECOND = 119  # bench/webhooks.py: one dev-server process, p99 461 ms

# --- The code's own settings ---------------------------------------------------------------------
RUNS_PER_DAY = 24 * 6  # Cloud Scheduler starts the refresh and the sweep every 10 minutes
LOCAL_LIMIT = 200  # refresh_tokens refreshes this many itself (shared refresh scheduler) ...
BATCH_SIZE = 100  # ... and fans the rest out in batches of 100 to refresh_batch
ACCESS_TOKEN_HOURS = 24  # TikTok's access token lifetime (docs: 24 h; newer pages say 2 h)
REFRESH_HORIZON_HOURS = 0.75  # an access token is refreshed within 45 min of its expiry
CHUNK_LIMIT_BYTES = 30_000_000  # the default largest chunk (PUBLISH_CHUNK_LIMIT_BYTES)
BATCH = next(f for f in FUNCTIONS if f.name == "refresh_batch")
UPLOADS = next(f for f in FUNCTIONS if f.name == "publish_init")
STATUS = next(f for f in FUNCTIONS if f.name == "publish_status")

# --- What a post costs the backend (counted from the code path; assumptions are marked) -----------
VIDEO_BYTES = 50_000_123  # assumption: every post a 50 MB file upload (TikTok's own example size)
UPLINK_BPS = 5_000_000  # assumption: the creator's phone uploads at 5 Mbps
STATUS_POLLS_PER_POST = 10  # assumption: the app polls status about ten times per post
WEBHOOKS_PER_POST = 3  # assumption: processing, complete, publicly available
HTTP_REQUEST_SECONDS = 0.1  # assumption: a non-upload request holds an instance 100 ms
PEAK_MINUTE_SHARE = 0.02  # assumption: the busiest minute carries 2% of a day's posts
REFRESH_READS, REFRESH_WRITES, REFRESH_DELETES = 4, 2, 1  # due query, lease, account, update
# A post's status changes 3 times (INITIALIZING, PROCESSING_UPLOAD, PUBLISH_COMPLETE); each change
# writes its outbox entry in the same commit and marks it sent after the publish (2 writes), and
# reads the user document before publishing (the deletion check), shared/store/outbox.py; the
# init's status write reads the post first.
POST_STATUS_EVENTS = 3
POST_READS = 16 + POST_STATUS_EVENTS + 1  # publish, chunk claims, polls, receipts, events
POST_WRITES = 14 + POST_STATUS_EVENTS * 2  # and the status updates, with their outbox entries
TOKEN_OPS_PER_REFRESH = 3  # decrypt the refresh token, encrypt both new tokens
TOKEN_OPS_PER_POST = 2  # decrypt the access token, encrypt TikTok's upload URL
PUBSUB_MESSAGE_BYTES = 1_000  # Pub/Sub bills at least 1,000 bytes per message

# --- List prices, USD (cited with their date in docs/capacity.md) ------------------------------
VCPU_SECOND = 0.000024  # Cloud Run (functions 2nd gen), Tier 1, request-based billing
GIB_SECOND = 0.0000025
PER_MILLION_REQUESTS = 0.40
FREE_VCPU_SECONDS, FREE_GIB_SECONDS, FREE_REQUESTS = 180_000, 360_000, 2_000_000  # a month
FIRESTORE_READ, FIRESTORE_WRITE, FIRESTORE_DELETE = 0.03, 0.09, 0.01  # per 100,000, us-central1
FREE_READS, FREE_WRITES, FREE_DELETES = 50_000, 20_000, 20_000  # a day
KMS_PER_10K = 0.03  # Cloud KMS, software keys
PUBSUB_PER_TIB, PUBSUB_FREE_GIB = 40.0, 10  # throughput (publish + delivery)
EGRESS_PER_GIB, EGRESS_FREE_GIB = 0.12, 1  # internet egress, Premium tier, North America
DAYS = 30
GIB = 2**30


@dataclass(frozen=True)
class Refresh:
    accounts: int
    per_day: float
    per_run: float
    batches: int
    waves: int
    seconds: float
    peak_batch_instances: int
    peak_token_calls_per_s: float
    account_writes_per_s: float


def refresh(accounts: int) -> Refresh:
    """One scheduled run at this many accounts (every account refreshed once per lifetime)."""
    per_day = accounts * ACCESS_TOKEN_HOURS / (ACCESS_TOKEN_HOURS - REFRESH_HORIZON_HOURS)
    per_run = per_day / RUNS_PER_DAY
    per_account = REFRESH_BENCH_SECONDS / REFRESH_BENCH_ACCOUNTS  # wall time in one pool of 16
    batches = math.ceil(max(0.0, per_run - LOCAL_LIMIT) / BATCH_SIZE)
    slots = BATCH.max_instances * BATCH.concurrency  # batches in flight at once
    waves = math.ceil(batches / slots)
    seconds = min(per_run, LOCAL_LIMIT) * per_account + waves * BATCH_SIZE * per_account
    pools = 1 + min(batches, slots)  # refresh_tokens' own pool, and each batch in flight
    rate = pools / per_account
    return Refresh(
        accounts=accounts,
        per_day=per_day,
        per_run=per_run,
        batches=batches,
        waves=waves,
        seconds=seconds,
        peak_batch_instances=min(BATCH.max_instances, math.ceil(batches / BATCH.concurrency)),
        peak_token_calls_per_s=rate,
        account_writes_per_s=rate,  # each refresh writes its account document once
    )


@dataclass(frozen=True)
class Posting:
    posts_per_day: int
    peak_minute_posts: float
    upload_seconds: float
    concurrent_uploads: float
    upload_instances: int
    webhook_events_per_s: float
    status_instances: int


def posting(posts_per_day: int) -> Posting:
    peak = posts_per_day * PEAK_MINUTE_SHARE
    upload = VIDEO_BYTES * 8 / UPLINK_BPS
    concurrent = peak * upload / 60  # uploads started in the peak minute, still running
    events = peak * WEBHOOKS_PER_POST / 60
    return Posting(
        posts_per_day=posts_per_day,
        peak_minute_posts=peak,
        upload_seconds=upload,
        concurrent_uploads=concurrent,
        upload_instances=max(1, math.ceil(concurrent / UPLOADS.concurrency)),
        webhook_events_per_s=events,
        status_instances=max(1, math.ceil(events / WEBHOOK_EVENTS_PER_SECOND)),
    )


@dataclass(frozen=True)
class Cost:
    accounts: int
    posts_per_day: int
    requests: float
    vcpu_seconds: float
    gib_seconds: float
    compute: float
    firestore: float
    kms: float
    pubsub: float
    egress: float

    @property
    def total(self) -> float:
        return self.compute + self.firestore + self.kms + self.pubsub + self.egress

    @property
    def per_1000_posts(self) -> float:
        return self.total / (self.posts_per_day * DAYS) * 1_000


def _memory_gib(spec_memory: str) -> float:
    return int(spec_memory[:-2]) / (1024 if spec_memory.endswith("Mi") else 1)


def cost(accounts: int, posts_per_day: int) -> Cost:
    """A month (30 days) at this scale, after the free tiers."""
    r, p = refresh(accounts), posting(posts_per_day)
    posts = posts_per_day * DAYS
    refreshes = r.per_day * DAYS
    chunks = math.ceil(VIDEO_BYTES / CHUNK_LIMIT_BYTES)
    per_post_requests = 1 + chunks + STATUS_POLLS_PER_POST + WEBHOOKS_PER_POST
    # One push per refresh run, per batch, and per sweep run.
    requests = posts * per_post_requests + DAYS * RUNS_PER_DAY * (2 + r.batches)
    # Uploads share an instance only when they overlap (publish_init's concurrency).
    sharing = min(UPLOADS.concurrency, max(1.0, p.concurrent_uploads))
    upload_s = posts * p.upload_seconds / sharing
    other_s = posts * (per_post_requests - chunks) * HTTP_REQUEST_SECONDS
    refresh_s = refreshes * REFRESH_BENCH_SECONDS / REFRESH_BENCH_ACCOUNTS
    vcpu = upload_s + other_s + refresh_s  # each of these functions has 1 vCPU
    gib = upload_s * _memory_gib(UPLOADS.memory) + (other_s + refresh_s) * 0.5
    compute = (
        max(0.0, vcpu - FREE_VCPU_SECONDS) * VCPU_SECOND
        + max(0.0, gib - FREE_GIB_SECONDS) * GIB_SECOND
        + max(0.0, requests - FREE_REQUESTS) / 1e6 * PER_MILLION_REQUESTS
    )
    reads = refreshes * REFRESH_READS + posts * POST_READS
    writes = refreshes * REFRESH_WRITES + posts * POST_WRITES
    deletes = refreshes * REFRESH_DELETES
    firestore = (
        max(0.0, reads - FREE_READS * DAYS) / 1e5 * FIRESTORE_READ
        + max(0.0, writes - FREE_WRITES * DAYS) / 1e5 * FIRESTORE_WRITE
        + max(0.0, deletes - FREE_DELETES * DAYS) / 1e5 * FIRESTORE_DELETE
    )
    kms_calls = (refreshes * TOKEN_OPS_PER_REFRESH + posts * TOKEN_OPS_PER_POST) / (
        TOKEN_OPS_PER_KMS_CALL
    )
    # The jobs' messages, and each post's status events (delivered to one subscription, say the
    # operator's alerts); each published once, delivered once.
    messages = DAYS * RUNS_PER_DAY * (2 + r.batches) + posts * POST_STATUS_EVENTS
    pubsub_gib = messages * 2 * PUBSUB_MESSAGE_BYTES / GIB
    pubsub = max(0.0, pubsub_gib - PUBSUB_FREE_GIB) / 1024 * PUBSUB_PER_TIB
    egress_gib = posts * VIDEO_BYTES / GIB  # the relay sends every uploaded byte on to TikTok
    return Cost(
        accounts=accounts,
        posts_per_day=posts_per_day,
        requests=requests,
        vcpu_seconds=vcpu,
        gib_seconds=gib,
        compute=compute,
        firestore=firestore,
        kms=kms_calls / 10_000 * KMS_PER_10K,
        pubsub=pubsub,
        egress=max(0.0, egress_gib - EGRESS_FREE_GIB) * EGRESS_PER_GIB,
    )


ACCOUNT_SCALES = (10_000, 100_000, 1_000_000)
POST_SCALES = (1_000, 100_000)


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.1f}"


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render() -> str:
    """The three tables of docs/capacity.md, in Markdown."""
    refresh_rows = [
        (
            f"{r.accounts:,}", _n(r.per_day), _n(r.per_run), str(r.batches), str(r.waves),
            f"{r.seconds:.1f} s", f"{r.peak_batch_instances} (max {BATCH.max_instances})",
            _n(r.peak_token_calls_per_s),
            _n(r.account_writes_per_s),
        )
        for r in map(refresh, ACCOUNT_SCALES)
    ]  # fmt: skip
    post_rows = [
        (
            f"{p.posts_per_day:,}", _n(p.peak_minute_posts), f"{p.upload_seconds:.0f} s",
            _n(p.concurrent_uploads), f"{p.upload_instances} (max {UPLOADS.max_instances})",
            _n(p.webhook_events_per_s), f"{p.status_instances} (max {STATUS.max_instances})",
        )
        for p in map(posting, POST_SCALES)
    ]  # fmt: skip
    cost_rows = [
        (
            f"{c.accounts:,}", f"{c.posts_per_day:,}", _n(c.requests), _n(c.vcpu_seconds),
            _n(c.gib_seconds), _usd(c.compute), _usd(c.firestore), _usd(c.kms), _usd(c.pubsub),
            _usd(c.egress), _usd(c.total), _usd(c.per_1000_posts),
        )
        for c in (cost(a, p) for a in ACCOUNT_SCALES for p in POST_SCALES)
    ]  # fmt: skip
    return "\n\n".join(
        (
            _table(
                ("accounts", "refreshes/day", "per run", "batches", "waves", "run takes",
                 "refresh_batch instances", "token calls/s at peak", "account writes/s"),
                refresh_rows,
            ),
            _table(
                ("posts/day", "peak minute", "one upload", "uploads at once",
                 "publish_init instances", "webhook events/s", "publish_status instances"),
                post_rows,
            ),
            _table(
                ("accounts", "posts/day", "requests", "vCPU-s", "GiB-s", "compute",
                 "Firestore", "KMS", "Pub/Sub", "egress", "month", "per 1,000 posts"),
                cost_rows,
            ),
        )
    )  # fmt: skip


if __name__ == "__main__":
    print(render())
