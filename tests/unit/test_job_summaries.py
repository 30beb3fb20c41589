"""Each scheduled job logs one summary as a run or batch ends: its message, the field naming run
or batch, and every count, counts by reason as plain dicts (what the operator's log queries read,
docs/operations.md)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from shared.analytics.scheduler import RunSummary as SnapshotSummary
from shared.jobs import RunSummary
from shared.publishing.due_run import DueSummary
from shared.tokens.scheduler import RunSummary as RefreshSummary


def logged(summary: RunSummary, caplog: pytest.LogCaptureFixture) -> tuple[str, dict[str, Any]]:
    """The summary's one log line: its message and its fields beyond a plain record's."""
    plain = {*vars(logging.makeLogRecord({})), "message"}  # "message": set by formatting
    with caplog.at_level(logging.INFO, logger=summary.logger.name):
        summary.log()
    [record] = caplog.records
    assert record.name == summary.logger.name
    return record.getMessage(), {k: v for k, v in vars(record).items() if k not in plain}


def test_the_refresh_summary_logs_every_count(caplog: pytest.LogCaptureFixture) -> None:
    summary = RefreshSummary("run", due=5, refreshed=3, fanned_out=2, batches=1, duration_ms=40)
    summary.failed["tiktok.invalid_grant"] += 2
    summary.skipped["busy"] += 1
    message, fields = logged(summary, caplog)
    assert message == "token refresh run finished"
    assert fields == {
        "refresh_run": "run",
        "due": 5,
        "refreshed": 3,
        "failed": {"tiktok.invalid_grant": 2},
        "skipped": {"busy": 1},
        "fanned_out": 2,
        "batches": 1,
        "duration_ms": 40,
    }
    assert type(fields["failed"]) is dict  # a Counter is logged as a plain dict


def test_the_snapshot_summary_logs_every_count(caplog: pytest.LogCaptureFixture) -> None:
    summary = SnapshotSummary("batch", accounts=4, taken=3, tiktok_calls=7, duration_ms=9)
    summary.failed["store_unavailable"] += 1
    message, fields = logged(summary, caplog)
    assert message == "analytics snapshot batch finished"
    assert fields == {
        "analytics_run": "batch",
        "accounts": 4,
        "taken": 3,
        "tiktok_calls": 7,
        "skipped": {},
        "failed": {"store_unavailable": 1},
        "fanned_out": 0,
        "batches": 0,
        "duration_ms": 9,
    }


def test_the_due_summary_logs_the_outcomes_by_name(caplog: pytest.LogCaptureFixture) -> None:
    summary = DueSummary("run", accounts=2)
    summary.outcomes.update({"sent": 6, "waiting": 2})
    message, fields = logged(summary, caplog)
    assert message == "scheduled posts run finished"
    assert fields == {
        "due_run": "run",
        "accounts": 2,
        "outcomes": {"sent": 6, "waiting": 2},
        "fanned_out": 0,
        "batches": 0,
        "duration_ms": 0,
    }
