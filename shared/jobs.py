"""The one table of deployed functions and how each is triggered: HTTP, or a Pub/Sub topic, which
Cloud Scheduler may publish to on a schedule.

The deploy plan (``deploy/table.py`` adds memory, timeout and concurrency), the local stack's
topics and push subscriptions (``emulator/pubsub.py``), ``python -m emulator.trigger`` and the
code that publishes (``shared/tokens/scheduler.py``) all read it, so a topic or schedule is
spelled in one place. Every entry point here is exported by ``main.py`` (a test holds them equal).
:class:`RunSummary` is the shape of the one log line each scheduled job writes as a run ends.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, fields
from typing import Any, ClassVar

REFRESH_TOPIC = "token-refresh"
REFRESH_BATCH_TOPIC = "token-refresh-batch"
SWEEP_TOPIC = "status-sweep"
ANALYTICS_TOPIC = "analytics-snapshot"
ANALYTICS_BATCH_TOPIC = "analytics-snapshot-batch"
PUBLISH_DUE_TOPIC = "publish-due"
PUBLISH_DUE_BATCH_TOPIC = "publish-due-batch"
# Every status change of a post or an account, for the operator's own subscribers (alerts, mail:
# docs/events.md). No function of this project subscribes to it.
EVENTS_TOPIC = "publisher-events"
OUTPUT_TOPICS = (EVENTS_TOPIC,)


@dataclass(frozen=True)
class Job:
    """One deployed function: its name is its entry point in ``main.py``."""

    function: str
    topic: str | None = None  # None: an HTTP function
    schedule: str | None = None  # cron (UTC): Cloud Scheduler publishes to ``topic`` this often
    trigger_name: str | None = None  # ``python -m emulator.trigger <name>`` runs it locally

    @property
    def is_http(self) -> bool:
        return self.topic is None


JOBS: tuple[Job, ...] = (
    Job("session"),
    Job("tiktok_oauth"),
    Job("accounts"),
    Job("publish_init"),
    Job("publish_status"),
    Job("media"),  # staging slots, and the /media/ URLs TikTok pulls staged media from
    # Refreshes the accounts whose tokens expire soon; fans big runs out to refresh_batch.
    Job("refresh_tokens", REFRESH_TOPIC, "*/10 * * * *", "refresh"),
    Job("refresh_batch", REFRESH_BATCH_TOPIC),  # published by refresh_tokens
    # Follows posts whose webhooks never came, and settles inits that never recorded an outcome.
    Job("sweep_status", SWEEP_TOPIC, "*/10 * * * *", "sweep"),
    # Each account's daily analytics snapshot (UTC day), fanned out to analytics_snapshot_batch.
    Job("analytics_snapshot", ANALYTICS_TOPIC, "30 0 * * *", "analytics"),
    Job("analytics_snapshot_batch", ANALYTICS_BATCH_TOPIC),  # published by analytics_snapshot
    # Sends the scheduled posts that are due, every minute; fans big minutes out to the batch.
    Job("publish_scheduled", PUBLISH_DUE_TOPIC, "* * * * *", "publish-due"),
    Job("publish_scheduled_batch", PUBLISH_DUE_BATCH_TOPIC),  # published by publish_scheduled
)


def job(function: str) -> Job:
    return next(j for j in JOBS if j.function == function)


def event_jobs() -> tuple[Job, ...]:
    """The Pub/Sub-triggered functions."""
    return tuple(j for j in JOBS if not j.is_http)


def scheduled_jobs() -> tuple[Job, ...]:
    """The jobs Cloud Scheduler starts."""
    return tuple(j for j in JOBS if j.schedule is not None)


def published_topics() -> tuple[str, ...]:
    """Topics the functions themselves publish to: those of the jobs no schedule starts, and the
    output topics no function of ours subscribes to."""
    fan_out = tuple(j.topic for j in JOBS if j.topic is not None and j.schedule is None)
    return (*fan_out, *OUTPUT_TOPICS)


@dataclass
class RunSummary:
    """What one run or batch of a scheduled job did, logged once as it ends.

    A job's summary adds its own counts as fields (a ``Counter`` counts by reason and is logged
    as a dict) and names its log message and the field that says run or batch.
    """

    kind: str  # "run": the scheduled run; "batch": one fanned-out batch
    fanned_out: int = 0
    batches: int = 0
    duration_ms: int = 0

    subject: ClassVar[str]  # the message: "<subject> run finished"
    kind_field: ClassVar[str]  # the log field holding ``kind``
    logger: ClassVar[logging.Logger]

    def log(self) -> None:
        extra: dict[str, Any] = {self.kind_field: self.kind}
        for spec in fields(self):
            if spec.name != "kind":
                value = getattr(self, spec.name)
                extra[spec.name] = dict(value) if isinstance(value, Counter) else value
        self.logger.info("%s %s finished", self.subject, self.kind, extra=extra)
