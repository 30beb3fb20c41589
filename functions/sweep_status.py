"""``sweep_status`` (topic ``status-sweep``, published by Cloud Scheduler every 10 minutes): follows
the posts whose webhooks never came and settles inits that never recorded an outcome
(shared/status/sweep.py), and finishes account deletions left to the schedule
(shared/users/deletion.py: very large accounts, and the final sweep for in-flight writes), and
deletes expired staging slots with their objects (shared/media/sweep.py), and publishes the
status events a writer left unpublished (shared/store/outbox.py).

It is its own job, not a step of the token refresh, so a slow TikTok status endpoint cannot delay
refreshes (nor a refresh problem stop the sweep), and each has its own logs and timeout. A failed
sweep is logged and acknowledged: the next run, 10 minutes later, does the same work, where a
redelivery would only repeat it sooner.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import functions_framework

from shared import errors, logs, runtime
from shared.media.sweep import sweep_expired_slots
from shared.status.sweep import run_sweep
from shared.users.deletion import finish_deletions

log = logging.getLogger(__name__)


@functions_framework.cloud_event
def sweep_status(event: Any) -> None:
    logs.configure()
    try:
        run_sweep(runtime.tracker(), now=datetime.now(UTC))  # logs its own summary
    except errors.AppError as exc:
        log.error("status sweep failed: %s", exc.message, extra={"reason": exc.reason})
    try:
        finish_deletions(
            runtime.user_data(),
            runtime.account_store(),
            runtime.post_store(),
            runtime.vault(),
            runtime.tiktok(),
            now=datetime.now(UTC),
        )
    except errors.AppError as exc:
        log.error("deletion sweep failed: %s", exc.message, extra={"reason": exc.reason})
    try:
        sweep_expired_slots(runtime.staging(), now=datetime.now(UTC))
    except (errors.AppError, errors.ConfigError) as exc:
        log.error("staged media sweep failed: %s", exc, extra={"reason": "media.sweep"})
    try:
        runtime.outbox().drain()  # logs its own summary
    except errors.AppError as exc:
        log.error("event outbox drain failed: %s", exc.message, extra={"reason": exc.reason})
