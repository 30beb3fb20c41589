"""Cold start: for each entry point, the median time to import it and answer a first request in
a fresh process, beside a bare functions-framework function measured in the same run.

    .venv/bin/python bench/cold_start.py [--runs 7]

Target (issue: skeleton): every entry point that does not use KMS stays within 1.3x of
(functions_framework + google.cloud.firestore import); none imports google.cloud.kms unless its
path uses it. The first request is each function's first GET route (else its first route),
signed in, against a Firestore emulator the benchmark starts: a real first request that reads or
writes Firestore where the route does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

ENV = {
    "GOOGLE_CLOUD_PROJECT": "demo-bench",
    "APP_ORIGIN": "https://app.example.com",
    "SESSION_SECRETS": "k1:" + "s" * 48,
    "TIKTOK_CLIENT_KEY": "bench-client",
    "TIKTOK_CLIENT_SECRET": "bench-secret-value",
    "TIKTOK_REDIRECT_URI": "https://app.example.com/api/tiktok/callback",
    "KMS_KEY_NAME": "projects/demo-bench/locations/global/keyRings/r/cryptoKeys/k",
    # Media staging configured, as in a deployment; the first request reads only Firestore.
    "MEDIA_BUCKET": "demo-bench-media",
    "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9",
    "MEDIA_URL_SECRETS": "m1:" + "m" * 48,
    "PATH": "/usr/bin:/bin",
}

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import functions_framework
if {baseline_firestore}:
    import google.cloud.firestore
app = functions_framework.create_app(target={target!r}, source={source!r}, signature_type="http")
client = app.test_client()
client.set_cookie("__session", {cookie!r})
response = client.open({path!r}, method={method!r}, headers={{"Origin": "https://app.example.com"}})
t1 = time.perf_counter()
print(json.dumps({{"seconds": t1 - t0, "status": response.status_code,
                  "kms": any(m.startswith("google.cloud.kms") for m in sys.modules)}}))
"""

BARE = """
def bare(request):
    return "ok"
"""


def measure(
    target: str,
    source: str,
    path: str,
    method: str,
    firestore: bool,
    runs: int,
    env: dict[str, str],
) -> dict[str, Any]:
    times, statuses, kms = [], set(), False
    code = CHILD.format(
        target=target,
        source=source,
        path=path,
        method=method,
        baseline_firestore=firestore,
        cookie=session_cookie(env),
    )
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(result["seconds"])
        statuses.add(result["status"])
        kms = kms or result["kms"]
    return {"median": statistics.median(times), "statuses": sorted(statuses), "kms": kms}


def session_cookie(env: dict[str, str]) -> str:
    """A signed-in cookie whose session record exists in the benchmark's Firestore emulator."""
    import os
    from datetime import UTC, datetime, timedelta

    from google.cloud import firestore

    from shared.config import Secret, SessionKey
    from shared.store.sessions import SessionStore, new_session_id
    from shared.web.sessions import SessionCodec

    os.environ["FIRESTORE_EMULATOR_HOST"] = env["FIRESTORE_EMULATOR_HOST"]
    sid, now = new_session_id(), datetime.now(UTC)
    store = SessionStore(firestore.Client(project=ENV["GOOGLE_CLOUD_PROJECT"]))
    store.create("bench-user", sid, now=now, expire_at=now + timedelta(hours=1))
    key = ENV["SESSION_SECRETS"].split(":", 1)
    codec = SessionCodec(
        [SessionKey(key[0], Secret(key[1]))],
        issuer=ENV["APP_ORIGIN"] + "/api/session",
        audience=ENV["APP_ORIGIN"],
        ttl_seconds=3600,
    )
    return codec.issue("bench-user", sid=sid, email=None, name=None, picture=None)


def first_request(name: str) -> tuple[str, str]:
    import main as entry
    from shared.web.http import routes_of

    routes = routes_of(getattr(entry, name)) or []
    route = next((r for r in routes if r.method == "GET"), routes[0])
    path = route.path
    for part in ("<open_id>", "<id>", "<int:n>", "<draft_id>", "<post_id>"):
        path = path.replace(part, "x" if "int" not in part else "0")
    return route.method, path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import main as entry
    from emulator.stack import Ports, Stack

    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp), project_id=ENV["GOOGLE_CLOUD_PROJECT"])
        stack.start(["firestore"])
        try:
            env = {**ENV, "FIRESTORE_EMULATOR_HOST": stack.env()["FIRESTORE_EMULATOR_HOST"]}
            results = run_all(entry.__all__, Path(tmp), args.runs, env)
        finally:
            stack.stop()
    report(*results)
    return 0


def run_all(
    names: list[str], tmp: Path, runs: int, env: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    bare = tmp / "bare_main.py"
    bare.write_text(BARE)
    base = measure("bare", str(bare), "/", "GET", False, runs, env)
    floor = measure("bare", str(bare), "/", "GET", True, runs, env)
    rows = []
    from shared.web.http import routes_of

    for name in names:
        if not routes_of(getattr(__import__("main"), name)):
            continue  # A CloudEvent function: no HTTP first request to time.
        method, path = first_request(name)
        rows.append(
            (
                name,
                method,
                path,
                measure(name, str(ROOT / "main.py"), path, method, False, runs, env),
            )
        )
    return base, floor, rows


def report(base: dict[str, Any], floor: dict[str, Any], rows: list[Any]) -> None:
    print(f"bare functions-framework function:           {base['median'] * 1000:7.1f} ms")
    print(f"bare function + google.cloud.firestore (ref): {floor['median'] * 1000:7.1f} ms")
    print()
    print(f"{'entry point':<16} {'first request':<34} {'median':>9} {'x ref':>6}  kms  status")
    worst = 0.0
    for name, method, path, result in rows:
        ratio = result["median"] / floor["median"]
        worst = max(worst, ratio)
        print(
            f"{name:<16} {method + ' ' + path:<34} {result['median'] * 1000:7.1f}ms {ratio:6.2f}"
            f"  {'yes' if result['kms'] else 'no ':<4} {result['statuses']}"
        )
    print(f"\nworst ratio to the reference: {worst:.2f} (target <= 1.30 for non-KMS entry points)")


if __name__ == "__main__":
    raise SystemExit(main())
