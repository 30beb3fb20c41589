"""The fake's publish init endpoints: video Direct Post, inbox video upload, photo posts.

``POST /v2/post/publish/video/init/`` (scope video.publish), ``/inbox/video/init/`` (video.upload)
and ``/content/init/`` (photos; DIRECT_POST needs video.publish, MEDIA_UPLOAD video.upload), as
docs/tiktok-api.md §3.2-3.4 and §4.3-4.4 describe them: body rules in :mod:`publish_rules`, then the
creator's spam flag, the unaudited-client rule, the daily caps (:mod:`caps`, which creator info
reads too), and a publish in the book.
FILE_UPLOAD answers an ``upload_url`` on this server (:mod:`emulator.tiktok.upload`);
PULL_FROM_URL starts a real download (:mod:`emulator.tiktok.pull`).
"""

from __future__ import annotations

import secrets
from typing import Any

import flask

from emulator.tiktok import ledger
from emulator.tiktok.caps import DAY, DIRECT, direct_cap
from emulator.tiktok.common import (
    bearer_authorization,
    begin,
    envelope,
    envelope_error,
    open_call,
    rate_limited,
    world,
)
from emulator.tiktok.posting import PRIVATE_OPTIONS, PUBLIC_OPTIONS, SPAM_ANSWERS
from emulator.tiktok.publish_rules import (
    FilePlan,
    Refused,
    check_media_url,
    invalid,
    photo_body,
    video_post_info,
    video_source,
)
from emulator.tiktok.publishes import (
    FAILED,
    PROCESSING_DOWNLOAD,
    PROCESSING_UPLOAD,
    PUBLISH_COMPLETE,
    UPLOAD_URL_LIFETIME,
    Publish,
    Upload,
)
from emulator.tiktok.pull import start_pull
from emulator.tiktok.state import Authorization

bp = flask.Blueprint("publish_init", __name__)

INBOX = "MEDIA_UPLOAD"


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> flask.Response:
    return envelope_error(exc.status, exc.code, exc.message)


def _caller(scope: str | None) -> Authorization:
    auth = bearer_authorization()
    if auth is None:
        raise Refused(401, "access_token_invalid", "The access token is invalid or not found.")
    if scope is not None and scope not in auth.scopes:
        raise Refused(401, "scope_not_authorized", f"The user did not authorize the scope {scope}.")
    return auth


def _body() -> dict[str, Any]:
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    return body


def _options(auth: Authorization) -> list[str]:
    with world().lock:
        private = world().users[auth.open_id].private_account
    return PRIVATE_OPTIONS if private else PUBLIC_OPTIONS


@bp.post("/v2/post/publish/video/init/")
def video_init() -> flask.Response:
    auth = open_call("video_init", any_scope=("video.publish",))
    if isinstance(auth, flask.Response):
        return auth
    body = _body()
    post_info = video_post_info(body, _options(auth))
    source, plan = video_source(body)
    return _accept(auth, "video", DIRECT, post_info, source, plan)


@bp.post("/v2/post/publish/inbox/video/init/")
def inbox_init() -> flask.Response:
    auth = open_call("inbox_init", any_scope=("video.upload",))
    if isinstance(auth, flask.Response):
        return auth
    source, plan = video_source(_body())
    return _accept(auth, "video", INBOX, {}, source, plan)


@bp.post("/v2/post/publish/content/init/")
def content_init() -> flask.Response:
    early = begin("content_init", oauth=False)
    if early is not None:
        return early
    _caller(None)
    body = _body()
    mode = body.get("post_mode")
    if mode not in (DIRECT, INBOX):
        raise invalid("post_mode must be DIRECT_POST or MEDIA_UPLOAD")
    auth = _caller("video.publish" if mode == DIRECT else "video.upload")
    limited = rate_limited("content_init")
    if limited is not None:
        return limited
    post_info, source = photo_body(body, _options(auth))
    return _accept(auth, "photo", mode, post_info, source, None)


def _accept(
    auth: Authorization,
    kind: str,
    mode: str,
    post_info: dict[str, Any],
    source: dict[str, Any],
    plan: FilePlan | None,
) -> flask.Response:
    state = world()
    cfg = state.config
    urls = [source["video_url"]] if kind == "video" and plan is None else []
    urls += source.get("photo_images", []) if kind == "photo" else []
    with state.lock:
        for url in urls:
            check_media_url(url, cfg.verified_url_prefixes)
        user = state.users[auth.open_id]
        if user.spam is not None:
            raise Refused(403, user.spam, SPAM_ANSWERS.get(user.spam, user.spam))
        _check_caps(auth.open_id, mode, user.private_account)
        book = state.publishes
        now = state.now()
        publish = Publish(
            publish_id=book.new_id(_prefix(kind, mode, plan)),
            open_id=auth.open_id,
            kind=kind,
            mode=mode,
            source=source["source"],
            post_info=post_info,
            source_info=source,
            created_at=now,
            status=PROCESSING_UPLOAD if plan is not None else PROCESSING_DOWNLOAD,
        )
        data: dict[str, Any] = {"publish_id": publish.publish_id}
        if plan is not None:
            publish.upload = Upload(
                upload_id=secrets.token_hex(16),
                upload_token=secrets.token_urlsafe(32),
                expires_at=now + UPLOAD_URL_LIFETIME,
                video_size=plan.video_size,
                chunk_size=plan.chunk_size,
                total_chunk_count=plan.total_chunk_count,
            )
            ledger.record(publish.upload.upload_token)
            data["upload_url"] = (
                f"{flask.request.host_url}upload/?upload_id={publish.upload.upload_id}"
                f"&upload_token={publish.upload.upload_token}"
            )
        book.add(publish)
        if urls:
            start_pull(book, publish, urls, cfg.processing_seconds)
    return envelope(data)


def _check_caps(open_id: str, mode: str, private: bool) -> None:
    """The unaudited-client rule and the daily caps (docs/tiktok-api.md §4.4)."""
    state = world()
    cfg, book = state.config, state.publishes
    if mode == INBOX:
        since = state.now() - DAY
        pending = book.count(
            open_id, since, lambda p: p.mode == INBOX and p.status not in (FAILED, PUBLISH_COMPLETE)
        )
        if pending >= cfg.pending_share_cap:
            raise Refused(
                403,
                "spam_risk_too_many_pending_share",
                "The user has too many pending shares; they must post or dismiss some first.",
            )
        return
    # The account being public triggers it, whatever privacy_level says (§4.4).
    if not cfg.audited and not private:
        raise Refused(
            403,
            "unaudited_client_can_only_post_to_private_accounts",
            "Unaudited clients can only post to private accounts.",
        )
    cap = direct_cap(open_id, cfg, book, state.now())
    if cap is not None:
        raise Refused(403, cap, SPAM_ANSWERS[cap])


def _prefix(kind: str, mode: str, plan: FilePlan | None) -> str:
    """Publish id prefixes as TikTok's examples show them (§3.2-3.4)."""
    if kind == "photo":
        return "p_pub_url~v2" if mode == DIRECT else "p_inbox_url~v2"
    if mode == DIRECT:
        return "v_pub_file~v2-1" if plan is not None else "v_pub_url~v2"
    return "v_inbox_file~v2" if plan is not None else "v_inbox_url~v2"
