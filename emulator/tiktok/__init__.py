"""A fake TikTok for local runs and tests, faithful to shared/reference/tiktok-api.md.

``python -m emulator.tiktok --host 127.0.0.1 --port N`` serves Login Kit (authorize page, token,
revoke), the Display API's user info and the Content Posting API's creator info, plus a control
API under ``/_control/`` for tests. State is in memory. Each API area is a blueprint in its own
module (oauth, display, posting, control); later areas (publish init, chunk upload, status, video
list and query, webhooks) are added the same way in :func:`create_app`.
"""

from __future__ import annotations

import flask

from emulator.tiktok.state import App, World


def create_app(app: App) -> flask.Flask:
    """The fake's WSGI app for one registered developer app."""
    from emulator.tiktok import control, display, oauth, posting

    server = flask.Flask("emulator.tiktok")
    server.extensions["tiktok_world"] = World(app)
    for module in (oauth, display, posting, control):
        server.register_blueprint(module.bp)
    return server
