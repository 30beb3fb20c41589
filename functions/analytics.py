"""The daily analytics snapshot: two Pub/Sub-triggered CloudEvent functions.

``analytics_snapshot`` (topic ``analytics-snapshot``, published by Cloud Scheduler daily) runs
one day's snapshot and fans extra accounts out; ``analytics_snapshot_batch`` (topic
``analytics-snapshot-batch``) snapshots one published batch. An exception makes Pub/Sub
redeliver, which the day-keyed snapshots make harmless; a malformed batch is logged and
acknowledged, since delivering it again cannot help.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import errors, logs, runtime
from shared.analytics.scheduler import parse_batch, run_batch, run_scheduled
from shared.pubsub import message_data

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def analytics_snapshot(event: Any) -> None:
    logs.configure()
    run_scheduled(runtime.snapshotter(), runtime.pubsub(), now=datetime.now(UTC))


@functions_framework.cloud_event
def analytics_snapshot_batch(event: Any) -> None:
    logs.configure()
    try:
        batch = parse_batch(message_data(event.data))
    except errors.InvalidArgument as exc:
        log.error("dropped a malformed analytics batch: %s", exc.message)
        return
    run_batch(runtime.snapshotter(), batch, now=datetime.now(UTC))
