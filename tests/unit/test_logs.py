"""Structured log lines: Cloud Logging's shape, trace correlation, and no secret in any line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared import logs

PROJECT = "demo-unit"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def render(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    rendered: dict[str, object] = json.loads(logs.JsonFormatter().format(record))
    return rendered


def test_line_has_severity_message_time_and_extra_fields() -> None:
    line = render("refreshed %d accounts", 3, due=5)
    assert line["severity"] == "WARNING"
    assert line["message"] == "refreshed 3 accounts"
    assert line["due"] == 5
    assert "time" in line


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Cloud-Trace-Context": f"{TRACE}/1;o=1"},
        {"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
        {"Traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"},
    ],
)
def test_trace_comes_from_either_header(headers: dict[str, str]) -> None:
    trace = logs.trace_from_headers(headers, PROJECT)
    assert trace == f"projects/{PROJECT}/traces/{TRACE}"
    token = logs.set_trace(trace)
    try:
        assert render("x")["logging.googleapis.com/trace"] == trace
    finally:
        logs.reset_trace(token)


def test_no_trace_header_means_no_trace_field() -> None:
    assert logs.trace_from_headers({"traceparent": "garbage"}, PROJECT) is None
    assert "logging.googleapis.com/trace" not in render("x")


@pytest.mark.parametrize(
    "leak",
    [
        "Authorization: Bearer act.1234567890abcdefABCDEF",
        "got refresh token rft.zzzzzzzzzzzzzzzzzzzz9",
        "callback ?code=AUTHCODE123456&state=STATE123456789",
        "cookie __session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl",
        "PUT https://open-upload.tiktokapis.com/video/?upload_id=1&upload_token=SECRETTOKEN",
        '{"client_secret": "s3cr3t-value-here"}',
    ],
)
def test_credential_shapes_are_redacted(leak: str) -> None:
    line = json.dumps(render("%s", leak))
    for secret in (
        "1234567890abcdefABCDEF",
        "zzzzzzzzzzzzzzzzzzzz9",
        "AUTHCODE123456",
        "STATE123456789",
        "c2lnbmF0dXJl",
        "SECRETTOKEN",
        "s3cr3t-value-here",
    ):
        assert secret not in line
    assert logs.REDACTED in line


def test_registered_secrets_are_redacted_anywhere() -> None:
    logs.register_secret("plain-looking-value-42")
    line = render("value is plain-looking-value-42 in text", context="plain-looking-value-42")
    assert "plain-looking-value-42" not in json.dumps(line)


def test_exception_text_is_redacted_too() -> None:
    logs.register_secret("exception-secret-999")
    try:
        raise ValueError("failed with exception-secret-999")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "x", None, None)
        import sys

        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record)
    assert "exception-secret-999" not in line
    assert "ValueError" in line


def test_configure_routes_root_logger_through_the_formatter() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logs._configured)
    logs._configured = False
    try:
        logs.configure(stream)
        logging.getLogger("any").info("hello %s", "world")
        assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "hello world"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logs._configured = saved[2]


def test_the_registry_stays_bounded_and_keeps_the_recent_and_the_configured_secrets() -> None:
    logs.register_permanent_secret("configured-client-secret-1")
    first = "transient-token-00000"
    logs.register_secret(first)
    for n in range(logs.MAX_TRANSIENT_SECRETS * 3):
        logs.register_secret(f"transient-token-{n + 1:05d}")
    assert logs.registered_secret_count() <= logs.MAX_TRANSIENT_SECRETS + 16
    latest = f"transient-token-{logs.MAX_TRANSIENT_SECRETS * 3:05d}"
    line = json.dumps(render("%s %s %s", latest, "configured-client-secret-1", first))
    assert latest not in line
    assert "configured-client-secret-1" not in line  # Configuration secrets are never evicted.
    assert first in line  # The oldest transient value was evicted: the bound holds.


def test_a_value_in_use_is_kept_however_many_others_come_and_go() -> None:
    logs.register_secret("busy-access-token-abc")
    for n in range(logs.MAX_TRANSIENT_SECRETS * 2):
        logs.register_secret(f"other-token-{n:05d}")
        if n % 100 == 0:
            logs.register_secret("busy-access-token-abc")  # Registered again on every use.
    assert "busy-access-token-abc" not in json.dumps(render("%s", "busy-access-token-abc"))
