"""``python -m emulator.kms --host H --port P``: run the fake Cloud KMS until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading

from emulator.kms.server import build_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local fake of Cloud KMS over plain gRPC.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    server, _ = build_server(args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(f"fake Cloud KMS listening on {args.host}:{args.port}", flush=True)
    stop.wait()
    server.stop(grace=1).wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
