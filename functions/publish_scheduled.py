"""Scheduled posts: two Pub/Sub-triggered CloudEvent functions.

``publish_scheduled`` (topic ``publish-due``, published by Cloud Scheduler every minute) sends the
posts that are due and fans big minutes out; ``publish_scheduled_batch`` (topic
``publish-due-batch``) works on one published batch of accounts. An exception makes Pub/Sub
redeliver, which the services make harmless (no post is ever initialised twice); a malformed
batch is logged and acknowledged, since delivering it again cannot help.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import errors, logs, runtime
from shared.publishing.due_run import new_holder, parse_batch, run_batch, run_due
from shared.pubsub import message_data

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def publish_scheduled(event: Any) -> None:
    logs.configure()
    run_due(runtime.due(new_holder("run")), runtime.pubsub(), now=datetime.now(UTC))


@functions_framework.cloud_event
def publish_scheduled_batch(event: Any) -> None:
    logs.configure()
    try:
        accounts = parse_batch(message_data(event.data))
    except errors.InvalidArgument as exc:
        log.error("dropped a malformed publish-due batch: %s", exc.message)
        return
    run_batch(runtime.due(new_holder("batch")), accounts)
