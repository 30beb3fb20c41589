"""A fake TikTok for local runs and tests, faithful to shared/reference/tiktok-api.md.

``python -m emulator.tiktok --host 127.0.0.1 --port N`` serves Login Kit (authorize page, token,
revoke), the Display API's user info and the Content Posting API (creator info, publish init,
chunk upload at ``/upload/``, status fetch), plus a control API under ``/_control/`` for tests.
State is in memory. Each API area is a blueprint in its own module; later areas (cancel, video
list and query, webhooks) are added the same way in :func:`create_app`.
"""

from __future__ import annotations

import flask

from emulator.tiktok.state import App, World


def create_app(app: App) -> flask.Flask:
    """The fake's WSGI app for one registered developer app."""
    from emulator.tiktok import (
        control,
        control_publish,
        display,
        oauth,
        posting,
        publish_init,
        publish_status,
        upload,
    )

    server = flask.Flask("emulator.tiktok")
    server.extensions["tiktok_world"] = World(app)
    modules = (oauth, display, posting, publish_init, upload, publish_status, control)
    for module in (*modules, control_publish):
        server.register_blueprint(module.bp)
    return server
