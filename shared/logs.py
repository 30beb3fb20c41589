"""Structured JSON log lines for Cloud Logging, with trace correlation and redaction.

Each record becomes one JSON line with ``severity``, ``message``, ``time`` and, inside a request,
``logging.googleapis.com/trace``. Every line passes through :func:`redact`, which removes values
registered as secret at run time (tokens, the client secret, session keys) and anything shaped
like a credential (bearer tokens, JWTs, TikTok tokens, OAuth codes, upload URLs, cookies), so no
secret reaches a log line even when a message or exception text carries one by accident.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace", default=None)

# Values registered at run time. Configuration secrets (few, fixed) stay for the process's life;
# per-request values (tokens, codes, upload URLs) live in a bounded least-recently-registered
# cache: each use registers its value again, so a value in use stays while old ones make room,
# and a long-lived instance holds at most MAX_TRANSIENT_SECRETS of them. An evicted value is no
# longer in use; the credential shapes below still catch it if it ever appears.
MAX_TRANSIENT_SECRETS = 1024
_secrets_lock = threading.Lock()
_permanent: set[str] = set()
_transient: OrderedDict[str, None] = OrderedDict()
_ordered: tuple[str, ...] = ()  # Every registered value, longest first; rebuilt on change only.
_MIN_SECRET_LEN = 8  # Shorter values would redact ordinary words.

REDACTED = "[REDACTED]"

# Credential shapes, redacted whatever their origin. Groups keep the harmless prefix readable.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\b(act|rft|clt)\.[A-Za-z0-9._~+/=!-]{6,}"), r"\1." + REDACTED),
    (
        re.compile(
            r"(?i)\b(code|state|token|access_token|refresh_token|id_token|client_secret|"
            r"upload_token|upload_id|secret|password|__session)(\"?\s*[=:]\s*\"?)[^\s\"&,;]+"
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)https?://[^\s\"']*(upload|tiktokapis)[^\s\"']*\?[^\s\"']*"), REDACTED),
)


def register_secret(*values: str | None) -> None:
    """Remember values of this request that must never appear in a log line (tokens, codes)."""
    global _ordered
    with _secrets_lock:
        changed = False
        for value in values:
            if not value or len(value) < _MIN_SECRET_LEN or value in _permanent:
                continue
            if value in _transient:
                _transient.move_to_end(value)
                continue
            _transient[value] = None
            changed = True
            if len(_transient) > MAX_TRANSIENT_SECRETS:
                _transient.popitem(last=False)
        if changed:
            _ordered = _longest_first()


def register_permanent_secret(*values: str | None) -> None:
    """Remember configuration secrets (client secret, signing keys) for the process's life."""
    global _ordered
    with _secrets_lock:
        for value in values:
            if value and len(value) >= _MIN_SECRET_LEN:
                _permanent.add(value)
                _transient.pop(value, None)
        _ordered = _longest_first()


def _longest_first() -> tuple[str, ...]:
    # Longest first, so a secret containing another is removed whole.
    return tuple(sorted(_permanent | _transient.keys(), key=len, reverse=True))


def registered_secret_count() -> int:
    with _secrets_lock:
        return len(_permanent) + len(_transient)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and credential-shaped value removed."""
    for value in _ordered:  # An immutable snapshot: no lock on the logging path.
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def trace_from_headers(headers: Mapping[str, str], project_id: str | None) -> str | None:
    """The Cloud Logging trace name from ``X-Cloud-Trace-Context`` or W3C ``traceparent``."""
    headers = {name.lower(): value for name, value in headers.items()}
    trace_id = None
    cloud = headers.get("x-cloud-trace-context", "")
    match = re.match(r"^([0-9a-fA-F]{32})(?:/|;|$)", cloud)
    if match:
        trace_id = match.group(1).lower()
    else:
        parent = headers.get("traceparent", "")
        match = re.match(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$", parent)
        if match and match.group(1) != "0" * 32:
            trace_id = match.group(1)
    if trace_id is None:
        return None
    return f"projects/{project_id}/traces/{trace_id}" if project_id else trace_id


def set_trace(trace: str | None) -> contextvars.Token[str | None]:
    return _trace.set(trace)


def reset_trace(token: contextvars.Token[str | None]) -> None:
    _trace.reset(token)


_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


class JsonFormatter(logging.Formatter):
    """One redacted JSON object per record, in Cloud Logging's structured-log shape."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(_redact_value(entry), default=str, ensure_ascii=False)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value(item) for item in value]
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return redact(str(value))


_configured = False


def configure(stream: Any = None, level: int = logging.INFO) -> None:
    """Send every log record of this process through the JSON formatter (idempotent)."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Client libraries log request details (URLs, headers) at DEBUG; keep them quiet.
    for noisy in ("urllib3", "httpx", "httpcore", "grpc", "google", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True
