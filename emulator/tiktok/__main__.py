"""Run the fake TikTok: ``python -m emulator.tiktok --host 127.0.0.1 --port N``.

The registered app comes from flags or TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET,
TIKTOK_REDIRECT_URI and TIKTOK_WEBHOOK_URL (the local stack sets them). Request lines are logged
without their query string, and request bodies never, so no code, token or secret reaches the log.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from werkzeug.serving import WSGIRequestHandler, make_server

from emulator.tiktok import create_app
from emulator.tiktok.state import App

log = logging.getLogger("emulator.tiktok")


class QuietHandler(WSGIRequestHandler):
    """Logs method, path and status only: the query may hold a state, a code or a token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s %s", self.command, path, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.tiktok", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9199)
    parser.add_argument("--client-key", default=os.environ.get("TIKTOK_CLIENT_KEY"))
    parser.add_argument("--client-secret", default=os.environ.get("TIKTOK_CLIENT_SECRET"))
    parser.add_argument("--redirect-uri", default=os.environ.get("TIKTOK_REDIRECT_URI"))
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("TIKTOK_WEBHOOK_URL"),
        help="the app's webhook callback URL (none: events are only logged)",
    )
    args = parser.parse_args(argv)
    missing = [
        flag
        for flag, value in (
            ("--client-key/TIKTOK_CLIENT_KEY", args.client_key),
            ("--client-secret/TIKTOK_CLIENT_SECRET", args.client_secret),
            ("--redirect-uri/TIKTOK_REDIRECT_URI", args.redirect_uri),
        )
        if not value
    ]
    if missing:
        parser.error("missing " + ", ".join(missing))
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
    # httpx (the PULL_FROM_URL downloads) logs every URL at INFO; keep the log to request lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = create_app(
        App(args.client_key, args.client_secret, args.redirect_uri), webhook_url=args.webhook_url
    )
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    log.info("fake TikTok listening on http://%s:%d", args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
