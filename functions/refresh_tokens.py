"""The scheduled token refresh: two Pub/Sub-triggered CloudEvent functions.

``refresh_tokens`` (topic ``token-refresh``, published by Cloud Scheduler) runs one scheduled
refresh and fans extra work out; ``refresh_batch`` (topic ``token-refresh-batch``) refreshes one
published batch. An exception makes Pub/Sub redeliver, which the services make harmless; a
malformed batch is logged and acknowledged, since delivering it again cannot help.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import errors, logs, runtime
from shared.pubsub import message_data
from shared.tokens.scheduler import parse_batch, run_batch, run_scheduled

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def refresh_tokens(event: Any) -> None:
    logs.configure()
    run_scheduled(
        runtime.account_store(),
        runtime.vault(),
        runtime.tiktok(),
        runtime.pubsub(),
        now=datetime.now(UTC),
    )


@functions_framework.cloud_event
def refresh_batch(event: Any) -> None:

    logs.configure()
    try:
        items = parse_batch(message_data(event.data))
    except errors.InvalidArgument as exc:
        log.error("dropped a malformed token-refresh batch: %s", exc.message)
        return
    run_batch(runtime.account_store(), runtime.vault(), runtime.tiktok(), items)
