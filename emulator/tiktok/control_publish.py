"""Control API for publishing: what TikTok received, forced failures, posting knobs.

Not part of TikTok. ``GET /_control/publishes[?open_id=]`` and ``/_control/publishes/<id>`` show
each publish's mode, source, post_info, source_info, status and its history, received or
downloaded bytes, SHA-256 and chunks, so tests assert what was sent and that nothing was posted
twice. ``POST /_control/publish/<id>/fail {"reason"}`` ends a publish as FAILED.
:func:`apply_config` reads the posting keys of ``POST /_control/config``.
"""

from __future__ import annotations

from typing import Any

import flask

from emulator.tiktok.common import world
from emulator.tiktok.state import Config

bp = flask.Blueprint("control_publish", __name__, url_prefix="/_control")


def apply_config(cfg: Config, body: dict[str, Any]) -> None:
    """Posting keys of /_control/config; ValueError names a bad one."""
    if "audited" in body:
        if not isinstance(body["audited"], bool):
            raise ValueError("audited must be a boolean")
        cfg.audited = body["audited"]
    for name in ("daily_post_cap", "pending_share_cap", "unaudited_user_cap"):
        if name in body:
            if not isinstance(body[name], int) or body[name] < 0:
                raise ValueError(f"{name} must be a non-negative integer")
            setattr(cfg, name, body[name])
    if "processing_seconds" in body:
        seconds = body["processing_seconds"]
        if not isinstance(seconds, int | float) or seconds < 0:
            raise ValueError("processing_seconds must be a non-negative number")
        cfg.processing_seconds = float(seconds)
    if "ingress_mbps" in body:
        mbps = body["ingress_mbps"]
        if not isinstance(mbps, int | float) or mbps < 0:
            raise ValueError("ingress_mbps must be a non-negative number (0: unlimited)")
        cfg.ingress_mbps = float(mbps)
    if "verified_url_prefixes" in body:
        prefixes = body["verified_url_prefixes"]
        if not isinstance(prefixes, list) or not all(isinstance(p, str) and p for p in prefixes):
            raise ValueError("verified_url_prefixes must be a list of domains or URL prefixes")
        cfg.verified_url_prefixes = list(prefixes)


def _not_found() -> tuple[flask.Response, int]:
    return flask.jsonify({"error": "no such publish"}), 404


@bp.get("/publishes")
def publishes() -> flask.Response:
    open_id = flask.request.args.get("open_id")
    state = world()
    with state.lock:
        state.publishes.settle()
        found = [
            p.view()
            for p in state.publishes.by_id.values()
            if open_id is None or p.open_id == open_id
        ]
        return flask.jsonify({"publishes": found})


@bp.get("/publishes/<publish_id>")
def publish(publish_id: str) -> flask.Response | tuple[flask.Response, int]:
    state = world()
    with state.lock:
        state.publishes.settle()
        found = state.publishes.by_id.get(publish_id)
        return flask.jsonify(found.view()) if found is not None else _not_found()


@bp.post("/publish/<publish_id>/fail")
def fail(publish_id: str) -> flask.Response | tuple[flask.Response, int]:
    body = flask.request.get_json(silent=True)
    reason = body.get("reason", "internal") if isinstance(body, dict) else "internal"
    state = world()
    with state.lock:
        found = state.publishes.by_id.get(publish_id)
        if found is None:
            return _not_found()
        state.publishes.fail(found, str(reason), force=True)
        return flask.jsonify(found.view())
