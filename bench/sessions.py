"""Session check: the latency one authenticated request pays for its session record read.

    .venv/bin/python bench/sessions.py [--requests 500]

Starts a Firestore emulator on a free port, signs one session in, then times the same trivial
route served through the HTTP edge in-process three ways: without auth, with the cookie's
signature verified only (what authentication cost before sessions were revocable), and with the
full check (signature plus the ``users/{uid}/sessions/{sid}`` read). Prints median and p99 of
each and of the difference. The emulator answers on loopback; a deployed function reading
Firestore in its own region pays a few milliseconds more per read.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENV = {
    "GOOGLE_CLOUD_PROJECT": "demo-bench",
    "APP_ORIGIN": "https://app.example.com",
    "SESSION_SECRETS": "k1:" + "s" * 48,
    "TIKTOK_CLIENT_KEY": "bench-client",
    "TIKTOK_CLIENT_SECRET": "bench-secret-value",
    "TIKTOK_REDIRECT_URI": "https://app.example.com/api/tiktok/callback",
    "KMS_KEY_NAME": "projects/demo-bench/locations/global/keyRings/r/cryptoKeys/k",
}


def timed(serve: object, cookie: str, requests: int) -> list[float]:
    import flask

    app = flask.Flask(__name__)
    times = []
    for _ in range(requests):
        with app.test_request_context(
            "/api/bench", headers={"Cookie": f"__session={cookie}"}
        ) as context:
            start = time.perf_counter()
            response = serve(context.request)  # type: ignore[operator]
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, response.get_data()
    return times


def summary(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{name:<44} median {statistics.median(times) * 1000:7.3f} ms   p99 {p99 * 1000:7.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()

    from emulator.stack import Ports, Stack

    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(ports=Ports.free(), workdir=Path(tmp), project_id=ENV["GOOGLE_CLOUD_PROJECT"])
        stack.start(["firestore"])
        try:
            os.environ.update(ENV)
            os.environ["FIRESTORE_EMULATOR_HOST"] = stack.env()["FIRESTORE_EMULATOR_HOST"]
            run(args.requests)
        finally:
            stack.stop()
    return 0


def run(requests: int) -> None:
    from shared import runtime
    from shared.store.sessions import new_session_id
    from shared.web.http import Call, Route, entrypoint, json_response

    runtime.reset()
    sid, now = new_session_id(), datetime.now(UTC)
    runtime.session_store().create("bench-user", sid, now=now, expire_at=now + timedelta(hours=1))
    cookie = runtime.session_codec().issue(
        "bench-user", sid=sid, email=None, name=None, picture=None
    )

    def handler(call: Call) -> object:
        return json_response({"ok": True})

    def verify_only(call: Call) -> object:
        runtime.session_codec().verify(call.request.cookies["__session"])
        return json_response({"ok": True})

    open_route = entrypoint([Route("GET", "/api/bench", handler, auth=False)])  # type: ignore[arg-type]
    signed = entrypoint([Route("GET", "/api/bench", verify_only, auth=False)])  # type: ignore[arg-type]
    checked = entrypoint([Route("GET", "/api/bench", handler)])  # type: ignore[arg-type]
    for serve in (open_route, signed, checked):  # warm up: first Firestore channel, imports
        timed(serve, cookie, 20)
    results = {
        "no auth": timed(open_route, cookie, requests),
        "signature only (before)": timed(signed, cookie, requests),
        "signature + session record read (now)": timed(checked, cookie, requests),
    }
    print(f"{requests} requests each, Firestore emulator on loopback\n")
    for name, times in results.items():
        print(summary(name, times))
    before = results["signature only (before)"]
    now_ = results["signature + session record read (now)"]
    added = [b - a for a, b in zip(sorted(before), sorted(now_), strict=True)]
    print()
    print(summary("added by the session check (quantile diff)", added))


if __name__ == "__main__":
    raise SystemExit(main())
