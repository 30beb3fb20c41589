"""What Firebase Hosting serves besides the functions: the built web app and its Firebase config.

Hosting answers a path from ``public/`` when a file exists there, else by the first matching
rewrite of ``firebase.json`` (a function, or a ``destination`` file such as the single-page app's
``/index.html``). It also serves ``/__/firebase/init.json`` with the project's web config; locally
that is the demo project's values plus where the Auth emulator listens, so the same build of the
web app runs in production and on the local stack.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parent.parent
INIT_JSON = "/__/firebase/init.json"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Content-hashed bundles never change under their name; the page itself is always revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def firebase_init(env: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, str]:
    """The web config Hosting's ``init.json`` gives, for the local demo project.

    The Auth emulator accepts any API key; ``authEmulatorUrl`` tells the app to call
    ``connectAuthEmulator``. Production's ``init.json`` (served by Hosting) has no such key.
    """
    project = env["GOOGLE_CLOUD_PROJECT"]
    config = {
        "projectId": project,
        "apiKey": "demo-api-key",
        "authDomain": f"{project}.firebaseapp.com",
        "appId": f"1:000000000000:web:{project}",
    }
    auth_host = env.get("FIREBASE_AUTH_EMULATOR_HOST")
    if auth_host:
        config["authEmulatorUrl"] = f"http://{auth_host}"
    return config


class StaticSite:
    """The files of ``public/``, looked up safely (no path outside the folder is ever served)."""

    def __init__(self, folder: Path = ROOT / "public") -> None:
        self.folder = folder.resolve()

    def find(self, path: str) -> Path | None:
        relative = path.lstrip("/")
        if not relative or any(part in ("..", "") for part in relative.split("/")):
            return None
        if any(part.startswith(".") for part in relative.split("/")):
            return None  # Hosting's "ignore": dotfiles are never published.
        try:
            candidate = (self.folder / relative).resolve()
            found = candidate.is_relative_to(self.folder) and candidate.is_file()
        except (OSError, ValueError):  # a name the file system cannot hold (too long, NUL)
            return None
        return candidate if found else None

    def respond(
        self, file: Path, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        request = Request(environ)
        if request.method not in ("GET", "HEAD"):
            body = json.dumps({"error": {"code": "METHOD_NOT_ALLOWED", "message": "static file"}})
            response = Response(body, status=405, mimetype="application/json")
            response.headers["Allow"] = "GET, HEAD"
            return response(environ, start_response)
        mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if file.suffix == ".js":
            mimetype = "text/javascript"
        response = Response(file.read_bytes(), mimetype=mimetype)
        rel = file.relative_to(self.folder).as_posix()
        response.headers["Cache-Control"] = IMMUTABLE if rel.startswith("assets/") else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.make_conditional(request)
        return response(environ, start_response)


def serve_init_json(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    response = Response(json.dumps(firebase_init()), mimetype="application/json")
    response.headers["Cache-Control"] = REVALIDATE
    return response(environ, start_response)
