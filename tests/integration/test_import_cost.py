"""Each entry point loads only what its path needs: a cold start never pays for another function,
and no HTTP path loads the KMS client, Pub/Sub, the Firebase Auth client, the TikTok client's
httpx, Cloud Storage or zoneinfo unless it uses them.

Every case runs in a fresh interpreter, as a new Cloud Functions instance would: it takes the
entry point from ``main`` alone (``main.<name>``), records which heavy libraries are loaded, then
serves one real first request through functions-framework (against the Firestore emulator) and
records them again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import main
from emulator.stack import Stack
from shared import runtime
from shared.config import Secret, SessionKey
from shared.store.sessions import SessionStore, new_session_id
from shared.web.sessions import SessionCodec

pytestmark = pytest.mark.emulators

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {
    "kms": ("google.cloud.kms", "google.cloud.kms_v1"),
    "pubsub": ("google.cloud.pubsub", "google.cloud.pubsub_v1"),
    "auth": ("firebase_admin",),
    "firestore": ("google.cloud.firestore", "google.cloud.firestore_v1"),
    # The TikTok client's HTTP library (with httpx's CLI where rich and click are installed).
    "httpx": ("httpx",),
    # The staging bucket's client: only a path that touches an object needs it.
    "storage": ("google.cloud.storage",),
    # Zone data: only a schedule in a named zone needs it (shared/publishing/schedule.py).
    "zoneinfo": ("zoneinfo", "tzdata"),
}
# The modules of functions/ that define no entry point of their own (routes of another function).
ROUTE_MODULES = {"functions.me"}

CHILD = r"""
import json, sys
HEAVY = {heavy!r}

def loaded():
    return {{
        "functions": sorted(m for m in sys.modules if m.startswith("functions.")),
        **{{name: any(m in sys.modules for m in mods) for name, mods in HEAVY.items()}},
    }}

import main
getattr(main, {name!r})
report = {{"import": loaded()}}
if {request!r}:
    import functions_framework
    method, path, headers, body = {request!r}
    app = functions_framework.create_app(target={name!r}, source={source!r}, signature_type="http")
    client = app.test_client()
    client.set_cookie("__session", {cookie!r})
    response = client.open(path, method=method, headers=headers, data=body)
    report["status"] = response.status_code
    report["body"] = response.get_data(as_text=True)[:500]
    report["request"] = loaded()
print(json.dumps(report))
"""


def run_child(name: str, request: tuple[str, str, dict[str, str], bytes] | None) -> dict[str, Any]:
    code = CHILD.format(
        heavy=HEAVY,
        name=name,
        request=request,
        source=str(ROOT / "main.py"),
        cookie=COOKIE.get("value", ""),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


COOKIE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def signed_in(clean: Stack) -> None:
    """A session cookie for the stack's session key, and the session record it names (every
    authenticated route reads it; no user document is needed)."""
    config = clean.env()
    kid, secret = config["SESSION_SECRETS"].split(",")[0].split(":", 1)
    origin = config["APP_ORIGIN"]
    codec = SessionCodec(
        [SessionKey(kid, Secret(secret))],
        issuer=f"{origin}/api/session",
        audience=origin,
        ttl_seconds=3600,
    )
    sid, now = new_session_id(), datetime.now(UTC)
    SessionStore(runtime.firestore_client()).create(
        "import-cost-user", sid, now=now, expire_at=now + timedelta(hours=1)
    )
    COOKIE["value"] = codec.issue("import-cost-user", sid=sid, email=None, name=None, picture=None)


@pytest.mark.parametrize("name", main.__all__)
def test_an_entry_point_taken_from_main_alone_loads_no_other_function_and_no_client(
    name: str,
) -> None:
    report = run_child(name, None)["import"]
    own = main._MODULES[name]
    others = {module for module in main._MODULES.values() if module != own}
    assert own in report["functions"]
    assert set(report["functions"]) <= {own} | ROUTE_MODULES
    assert not set(report["functions"]) & others
    # Importing builds nothing: every heavy client library waits for the path that needs it.
    assert {lib: report[lib] for lib in HEAVY} == dict.fromkeys(HEAVY, False)


def _webhook(stack: Stack) -> tuple[str, str, dict[str, str], bytes]:
    """A correctly signed ``authorization.removed`` for a TikTok account nobody connected."""
    config = stack.env()
    body = json.dumps(
        {
            "client_key": config["TIKTOK_CLIENT_KEY"],
            "event": "authorization.removed",
            "create_time": int(time.time()),
            "user_openid": "import-cost-open-id",
            "content": json.dumps({"reason": 1}),
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(
        config["TIKTOK_CLIENT_SECRET"].encode(), stamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    headers = {"TikTok-Signature": f"t={stamp},s={signature}", "Content-Type": "application/json"}
    return "POST", "/api/webhooks/tiktok", headers, body


# Entry point, request, expected status, and the heavy libraries that path may load.
FIRST_REQUESTS: list[tuple[str, Any, int, set[str]]] = [
    # The session check reads its record: Firestore, nothing heavier.
    ("session", ("GET", "/api/session", {}, b""), 200, {"firestore"}),
    ("accounts", ("GET", "/api/tiktok/accounts", {}, b""), 200, {"firestore"}),
    ("tiktok_oauth", ("GET", "/api/tiktok/connect", {}, b""), 302, {"firestore"}),
    ("publish_init", ("GET", "/api/publish/drafts/x", {}, b""), 404, {"firestore"}),
    ("publish_status", ("GET", "/api/publish/x/status", {}, b""), 404, {"firestore"}),
    ("publish_status", _webhook, 200, {"firestore"}),
    # Staging configured (the stack's MEDIA_BUCKET), but reading a slot touches no object.
    ("media", ("GET", "/api/media/x", {}, b""), 404, {"firestore"}),
    # TikTok pulling with a token that is no longer valid: refused before any object is read.
    ("media", ("GET", "/media/x", {}, b""), 404, {"firestore"}),
]


@pytest.mark.parametrize(
    ("name", "request_", "status", "allowed"),
    FIRST_REQUESTS,
    ids=[f"{row[0]}-{'webhook' if callable(row[1]) else row[1][1]}" for row in FIRST_REQUESTS],
)
def test_a_first_request_loads_only_the_clients_its_path_uses(
    clean: Stack, name: str, request_: Any, status: int, allowed: set[str]
) -> None:
    request = request_(clean) if callable(request_) else request_
    origin = clean.env()["APP_ORIGIN"]
    method, path, headers, body = request
    if method != "GET" and path != "/api/webhooks/tiktok":
        headers = {**headers, "Origin": origin}
    report = run_child(name, (method, path, headers, body))
    assert report["status"] == status, report["body"]
    loaded = {lib for lib in HEAVY if report["request"][lib]}
    assert loaded <= allowed, f"{name} {method} {path} loaded {sorted(loaded - allowed)}"
    assert "kms" not in loaded
    assert "pubsub" not in loaded
    assert "auth" not in loaded
