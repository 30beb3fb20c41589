"""A fake TikTok for local runs and tests, faithful to docs/tiktok-api.md.

``python -m emulator.tiktok --host 127.0.0.1 --port N`` serves Login Kit (authorize page, token,
revoke), the Display API's user info and the Content Posting API (creator info, publish init,
chunk upload at ``/upload/``, status fetch, cancel), plus a control API under ``/_control/`` for
tests.
State is in memory. Each API area is a blueprint in its own module, added in :func:`create_app`:
video list and query (videos.py) and webhook delivery (webhooks.py) included.
"""

from __future__ import annotations

import flask

from emulator.tiktok.publishes import PublishBook
from emulator.tiktok.state import App, World


def create_app(app: App, webhook_url: str | None = None) -> flask.Flask:
    """The fake's WSGI app for one registered developer app; webhooks go to ``webhook_url``."""
    from emulator.tiktok import (
        cancel,
        control,
        control_publish,
        display,
        oauth,
        posting,
        publish_init,
        publish_status,
        upload,
        videos,
        webhooks,
    )

    server = flask.Flask("emulator.tiktok")
    state = World(app)
    hooks = webhooks.Deliverer(app, webhook_url)
    shelf = videos.Shelf(state)

    books: list[PublishBook] = []

    def wire() -> None:  # after every reset: a fresh PublishBook needs the listener again
        for old in books:  # an old publish's late timer must not send into the next test
            old.listeners.remove(hooks.on_status)
            old.listeners.remove(shelf.on_status)
        books.clear()
        hooks.reset()
        shelf.reset()
        state.publishes.listeners.extend((hooks.on_status, shelf.on_status))
        books.append(state.publishes)

    state.reset_hooks.append(wire)
    wire()
    server.extensions.update(tiktok_world=state, tiktok_webhooks=hooks, tiktok_videos=shelf)
    modules = (oauth, display, posting, publish_init, upload, publish_status, cancel, videos)
    for module in (*modules, control, control_publish, webhooks):
        server.register_blueprint(module.bp)
    server.register_blueprint(videos.control)
    return server
