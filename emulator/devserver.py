"""Every HTTP function behind one port, routed by ``firebase.json``'s Hosting rewrites.

Firebase Hosting serves a file of ``public/`` when one exists at the path, else forwards the
request with its full path to the function a rewrite names, or answers the rewrite's
``destination`` file (the web app's ``/index.html`` for its own paths); this server does the same
locally (emulator/hosting.py), so ``firebase.json`` stays the one routing table. Each function is
served by functions-framework's own app, exactly as it runs in Cloud Functions. ``GET /api/``
answers an index of the API (:mod:`emulator.api_index`). Pub/Sub-triggered
functions answer the Pub/Sub emulator's pushes under ``/_events/<function>/`` (emulator/pubsub.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import functions_framework
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from emulator import api_index
from emulator.hosting import INIT_JSON, StaticSite, serve_init_json
from emulator.pubsub import EVENT_FUNCTIONS, EVENTS_PREFIX
from shared import logs, runtime

ROOT = Path(__file__).resolve().parent.parent
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

log = logging.getLogger("devserver")


def glob_to_regex(source: str) -> re.Pattern[str]:
    """Firebase Hosting's glob: ``**`` crosses segments, ``*`` stays within one."""
    out = []
    i = 0
    while i < len(source):
        if source.startswith("**", i):
            out.append(".*")
            i += 2
        elif source[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(source[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def load_rewrites(path: Path = ROOT / "firebase.json") -> list[tuple[re.Pattern[str], str]]:
    config = json.loads(path.read_text())
    table = []
    for rewrite in config["hosting"]["rewrites"]:
        function = rewrite.get("function")
        target = function["functionId"] if isinstance(function, dict) else function
        if target and "source" in rewrite:
            table.append((glob_to_regex(rewrite["source"]), target))
    return table


def load_destinations(path: Path = ROOT / "firebase.json") -> list[tuple[re.Pattern[str], str]]:
    """The rewrites to a file (``{"source": "**", "destination": "/index.html"}``), in order."""
    config = json.loads(path.read_text())
    return [
        (glob_to_regex(rewrite["source"]), rewrite["destination"])
        for rewrite in config["hosting"]["rewrites"]
        if "destination" in rewrite and "source" in rewrite
    ]


def entry_points() -> set[str]:
    """The function names ``main.py`` exports."""
    import main

    return set(main.__all__)


class Dispatcher:
    """A WSGI app sending each request to the function its path rewrites to."""

    def __init__(
        self,
        rewrites: list[tuple[re.Pattern[str], str]],
        available: set[str],
        site: StaticSite | None = None,
        destinations: list[tuple[re.Pattern[str], str]] | None = None,
    ) -> None:
        self.rewrites = rewrites
        self.site = site
        self.destinations = destinations or []
        self.apps: dict[str, WSGIApp] = {}
        # Pub/Sub-triggered functions, reached by the Pub/Sub emulator's push subscriptions.
        self.event_apps: dict[str, WSGIApp] = {
            name: functions_framework.create_app(  # type: ignore[no-untyped-call]
                target=name, source=str(ROOT / "main.py"), signature_type="cloudevent"
            )
            for name in EVENT_FUNCTIONS
            if name in available
        }
        for _, target in rewrites:
            if target in available and target not in self.apps:
                self.apps[target] = functions_framework.create_app(  # type: ignore[no-untyped-call]
                    target=target, source=str(ROOT / "main.py"), signature_type="http"
                )

    def target(self, path: str) -> str | None:
        for pattern, target in self.rewrites:
            if pattern.match(path):
                return target
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/_dev/health":
            return Response('{"ok":true}', mimetype="application/json")(environ, start_response)
        if path in ("/api", "/api/"):
            return self._index(environ, start_response)
        if path == INIT_JSON:
            return serve_init_json(environ, start_response)
        if self.site is not None:
            static = self.site.find(path)
            if static is not None:
                return self.site.respond(static, environ, start_response)
        if path.startswith(EVENTS_PREFIX):
            target = path[len(EVENTS_PREFIX) :].partition("/")[0]
            app = self.event_apps.get(target)
        else:
            target = self.target(path)
            app = self.apps.get(target) if target else None
        # Unrouted /api/ paths stay a JSON 404 here (Hosting would answer the SPA), so a missing
        # rewrite shows up in tests instead of as an HTML page.
        if (
            app is None
            and target is None
            and self.site is not None
            and not path.startswith("/api/")
        ):
            for pattern, destination in self.destinations:
                page = self.site.find(destination) if pattern.match(path) else None
                if page is not None:
                    return self.site.respond(page, environ, start_response)
        if app is None:
            body = {"error": {"code": "NOT_FOUND", "message": f"no function serves {path}"}}
            response = Response(json.dumps(body), status=404, mimetype="application/json")
            return response(environ, start_response)
        # A /media/ path is a bearer token for an hour: never logged.
        shown = "/media/<token>" if path.startswith("/media/") else path
        log.info("%s %s -> %s", environ.get("REQUEST_METHOD"), shown, target)
        return app(environ, start_response)

    def _index(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            body = {"error": {"code": "METHOD_NOT_ALLOWED", "message": "/api/ answers GET only"}}
            response = Response(json.dumps(body), status=405, mimetype="application/json")
            response.headers["Allow"] = "GET, HEAD"
            return response(environ, start_response)
        origin = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        index = json.dumps(api_index.index(origin), indent=2)
        return Response(index, mimetype="application/json")(environ, start_response)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logs.configure()
    runtime.settings()  # Fail at start, naming the variable, on a bad environment.
    dispatcher = Dispatcher(
        load_rewrites(), entry_points(), StaticSite(), destinations=load_destinations()
    )
    server = make_server(args.host, args.port, dispatcher, threaded=True)
    log.info("serving %s on http://%s:%d", sorted(dispatcher.apps), args.host, args.port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
