"""A Firestore that cannot be reached answers 503 UNAVAILABLE with Retry-After within seconds.

The real Firestore client is pointed at a loopback port nothing listens on (no server needed):
the bounded client gives up within its budget, and the HTTP edge answers 503 with one log line.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from google.cloud import firestore

from shared import logs, runtime
from shared.store.client import CALL_BUDGET_SECONDS
from shared.store.outage import RETRY_AFTER_SECONDS, outage_error
from shared.web.http import Call, Route, entrypoint, json_response

app = flask.Flask(__name__)


@pytest.fixture
def dead_firestore(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """FIRESTORE_EMULATOR_HOST naming a loopback port that refuses connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)
    runtime.reset()
    yield host
    runtime.reset()


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every record this process logs at INFO or above during the test (what Cloud Logging gets)."""
    logs.configure()  # the edge configures logging on its first request: do it before listening
    handler = _Records()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


def _read(call: Call) -> flask.Response:
    runtime.firestore_client().document("users/u1").get()
    return json_response({"read": True})


def _write_in_transaction(call: Call) -> flask.Response:
    db = runtime.firestore_client()

    @firestore.transactional
    def move(transaction: Any) -> None:
        transaction.get(db.document("users/u1"))
        transaction.set(db.document("users/u1"), {"n": 1})

    move(db.transaction())
    return json_response({"written": True})


serve = entrypoint(
    [
        Route("GET", "/api/read", _read, auth=False),
        Route("POST", "/api/txn", _write_in_transaction, auth=False, same_origin=False),
    ]
)


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/read"), ("POST", "/api/txn")])
def test_an_unreachable_firestore_is_a_503_with_retry_after_and_one_log_line(
    dead_firestore: str, records: list[logging.LogRecord], method: str, path: str
) -> None:
    started = time.monotonic()
    with app.test_request_context(path, method=method):
        response = serve(flask.request)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == {
        "error": {
            "code": "UNAVAILABLE",
            "message": "the database is unavailable right now; try again in a few seconds",
            "reason": "store.unavailable",
        }
    }
    # Bounded: the library's own defaults would retry for 60 to 300 s first.
    assert elapsed < 2 * CALL_BUDGET_SECONDS + 5
    ours = [r for r in records if r.levelno >= logging.INFO]
    assert len(ours) == 1, [r.getMessage() for r in ours]
    assert ours[0].levelno == logging.WARNING
    assert ours[0].exc_info is None
    assert dead_firestore.split(":")[1] not in ours[0].getMessage()  # no internals


def test_other_errors_are_not_taken_for_an_outage() -> None:
    assert outage_error(RuntimeError("boom")) is None
    chained = ValueError("v")
    chained.__context__ = KeyError("k")
    assert outage_error(chained) is None
