"""Composition: the settings and clients of this instance, each built once on first use.

Nothing here runs at import time, and each builder imports what it builds only when first called:
the client library (google.cloud.firestore and firebase_admin here; google.cloud.kms and
google.cloud.pubsub inside :mod:`shared.crypto.kms` and :mod:`shared.pubsub`) and the service
module with everything under it (httpx for the TikTok client, the publishing and status services).
This module is the one place where "what this function's paths use" is decided, and every HTTP
function imports it (for the session codec): importing all the builders' modules at the top cost
``GET /api/session`` about 50 ms more CPU at cold start (``bench/cold_start.py``). So a function
pays only for what its path uses (a session check reads one Firestore document and never loads
the KMS client). Tests and the dev server call :func:`reset` after changing the environment.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from typing import TYPE_CHECKING

from shared import logs
from shared.config import Settings

if TYPE_CHECKING:
    import firebase_admin
    from google.cloud import firestore

    from shared.analytics.snapshot import Snapshotter
    from shared.crypto.vault import Vault
    from shared.media.service import Staging
    from shared.media.tokens import MediaTokens
    from shared.publishing.due import Due
    from shared.publishing.publish import Publisher
    from shared.pubsub import PubSub
    from shared.status.poll import Tracker
    from shared.store.accounts import AccountStore
    from shared.store.analytics import AnalyticsStore
    from shared.store.outbox import Outbox, Publish, PublishAll
    from shared.store.posts import PostStore
    from shared.store.sessions import SessionStore
    from shared.store.status import StatusStore
    from shared.store.user_data import UserData
    from shared.store.users import Store
    from shared.tiktok.client import TikTokClient
    from shared.tiktok.models import LoginKit
    from shared.web.sessions import SessionCodec


log = logging.getLogger(__name__)

# The end-of-request drain runs at most this often per instance (seconds), the first time this
# long after the instance's first request that could write a status: entries a writer failed to
# publish wait their claim (60 s) anyway, so most requests, and a new instance's first one (its
# cold start), pay nothing for it.
DRAIN_EVERY = 60.0
EVENT_PUBLISH_TIMEOUT = 5.0  # seconds a writer waits for Pub/Sub to take its event
DRAIN_AFTER_REQUEST = 20  # entries per end-of-request drain; the scheduled sweep takes the rest
_last_drain: list[float | None] = [None]  # None: no request of this instance has come this far


@functools.cache
def settings() -> Settings:
    loaded = Settings.from_env(os.environ)
    logs.register_permanent_secret(
        loaded.tiktok_client_secret.reveal(), *(k.secret.reveal() for k in loaded.session_keys)
    )
    return loaded


@functools.cache
def session_codec() -> SessionCodec:
    from shared.web.sessions import SessionCodec

    config = settings()
    return SessionCodec(
        config.session_keys,
        issuer=f"{config.app_origin}/api/session",
        audience=config.app_origin,
        ttl_seconds=config.session_ttl_seconds,
    )


@functools.cache
def session_store() -> SessionStore:
    from shared.store.sessions import SessionStore

    return SessionStore(firestore_client())


@functools.cache
def firestore_client() -> firestore.Client:
    from shared.store.client import make_client

    return make_client(settings().project_id)


@functools.cache
def firebase_app() -> firebase_admin.App:
    # Lazy: only sign-in and account deletion talk to Firebase Auth.
    import firebase_admin

    name = "publisher"
    try:
        return firebase_admin.get_app(name)
    except ValueError:
        return firebase_admin.initialize_app(
            options={"projectId": settings().project_id}, name=name
        )


@functools.cache
def account_store() -> AccountStore:
    from shared.store.accounts import AccountStore

    return AccountStore(firestore_client(), outbox())


@functools.cache
def vault() -> Vault:
    from shared.crypto.vault import Vault, make_kms_client

    config = settings()
    return Vault(make_kms_client(config.kms_emulator_host), config.kms_key_name)


@functools.cache
def login_kit() -> LoginKit:
    from shared.tiktok.models import LoginKit

    config = settings()
    return LoginKit(config.tiktok_auth_url, config.tiktok_client_key, config.tiktok_redirect_uri)


@functools.cache
def tiktok() -> TikTokClient:
    from shared.tiktok.client import TikTokClient, make_http_client

    config = settings()
    return TikTokClient(
        make_http_client(config.tiktok_api_base),
        client_key=config.tiktok_client_key,
        client_secret=config.tiktok_client_secret.reveal(),
        redirect_uri=config.tiktok_redirect_uri,
        auth_url=config.tiktok_auth_url,
    )


@functools.cache
def user_store() -> Store:
    """The signed-in people (``users/{uid}``)."""
    from shared.store.users import Store

    return Store(firestore_client())


@functools.cache
def user_data() -> UserData:
    """Each user's data as a whole (export, deletion, the deletion's tombstone)."""
    from shared.store.user_data import UserData

    return UserData(firestore_client(), outbox())


@functools.cache
def post_store() -> PostStore:
    from shared.store.posts import PostStore

    return PostStore(firestore_client(), outbox())


def loopback_media() -> bool:
    """Plain-http loopback media URLs are accepted only by the local stack (its media server)."""
    config = settings()
    return config.is_demo_project and config.tiktok_api_base.startswith("http://")


@functools.cache
def publisher() -> Publisher:
    from shared.publishing.publish import Publisher

    return Publisher(
        posts=post_store(),
        accounts=account_store(),
        vault=vault(),
        tiktok=tiktok(),
        status=status_store(),
        chunk_limit=settings().publish_chunk_limit,
        loopback_media=loopback_media(),
        app_origin=settings().app_origin,
        schedule_max_days=settings().schedule_max_days,
        make_staging=staging,
        make_media_tokens=media_tokens,
    )


def due(holder: str) -> Due:
    """What sending scheduled posts needs; ``holder`` names this run in the account leases."""
    from shared.publishing.due import Due
    from shared.store.leases import Leases
    from shared.store.scheduled import ScheduleStore

    db = firestore_client()
    return Due(publisher(), ScheduleStore(db, outbox()), Leases(db), holder)


@functools.cache
def status_store() -> StatusStore:
    from shared.store.status import StatusStore

    return StatusStore(firestore_client(), on_final=delete_staged_media, outbox=outbox())


def delete_staged_media(uid: str, post_id: str) -> None:
    """Every staged object of a post that became final (called by the status paths)."""
    from shared.media.service import delete_post_media

    delete_post_media(staging(), uid=uid, post_id=post_id)


@functools.cache
def tracker() -> Tracker:
    """Following posts (polling, the sweep); the webhook needs only :func:`status_store`."""
    from shared.status.poll import Tracker

    return Tracker(
        status=status_store(), accounts=account_store(), make_vault=vault, make_tiktok=tiktok
    )


@functools.cache
def snapshotter() -> Snapshotter:
    from shared.analytics.snapshot import Snapshotter
    from shared.store.analytics import AnalyticsStore

    return Snapshotter(
        accounts=account_store(),
        analytics=AnalyticsStore(firestore_client()),
        vault=vault(),
        tiktok=tiktok(),
        max_videos=settings().analytics_max_videos,
    )


@functools.cache
def analytics_store() -> AnalyticsStore:
    from shared.store.analytics import AnalyticsStore

    return AnalyticsStore(firestore_client())


@functools.cache
def pubsub() -> PubSub:
    from shared.pubsub import PubSub, make_publisher_client

    return PubSub(make_publisher_client(), settings().project_id)


@functools.cache
def outbox() -> Outbox:
    """The one event outbox every store of this instance writes status events through."""
    from shared.store.outbox import Outbox

    return Outbox(firestore_client(), make_publish=_publish_event, make_publish_all=_publish_events)


def _publish_event() -> Publish:
    from shared.jobs import EVENTS_TOPIC

    client = pubsub()
    # Short: a writer waits for this after its commit, inside the request. An event not
    # published in time stays pending, and a drain publishes it (the same event_id).
    return lambda data, attributes: client.publish(
        EVENTS_TOPIC, data, attributes, timeout=EVENT_PUBLISH_TIMEOUT
    )


def _publish_events() -> PublishAll:
    from shared.jobs import EVENTS_TOPIC

    client = pubsub()
    return lambda messages: client.publish_all(
        EVENTS_TOPIC, messages, timeout=EVENT_PUBLISH_TIMEOUT
    )


def drain_events_after_request() -> None:
    """Best effort, at the end of a request: publish events left pending (a writer crashed, or
    Pub/Sub failed), when this instance writes statuses at all and has not drained in the last
    :data:`DRAIN_EVERY` seconds (the first request that could write one starts that clock, so
    a cold start never waits for a drain). Never raises: the response is already decided."""
    if outbox.cache_info().currsize == 0:  # this instance's routes never touched a status
        return
    now = time.monotonic()
    last = _last_drain[0]
    if last is None:  # this instance's first such request: its minute starts now
        _last_drain[0] = now
        return
    if now - last < DRAIN_EVERY:
        return
    _last_drain[0] = now
    try:
        outbox().drain(limit=DRAIN_AFTER_REQUEST)
    except Exception:
        log.warning("draining the event outbox failed", exc_info=True)


def media_configured() -> bool:
    """Whether this deployment stages media (MEDIA_BUCKET set); without it no slot can exist."""
    return settings().media_bucket is not None


@functools.cache
def staging() -> Staging:
    """The staging bucket and slots; ConfigError naming MEDIA_BUCKET when it is not set."""
    from shared.errors import ConfigError
    from shared.media.service import Staging
    from shared.media.storage import open_bucket
    from shared.store.media import MediaStore

    config = settings()
    if not config.media_bucket:
        raise ConfigError("MEDIA_BUCKET is not set: staged media needs its bucket")
    return Staging(
        media=MediaStore(firestore_client()),
        bucket=open_bucket(config.project_id, config.storage_emulator_host, config.media_bucket),
        app_origin=config.app_origin,
    )


@functools.cache
def media_tokens() -> MediaTokens:
    from shared.errors import ConfigError
    from shared.media.tokens import MediaTokens

    keys = settings().media_url_keys
    if not keys:
        raise ConfigError("MEDIA_URL_SECRETS is not set: /media/ URLs need their signing key")
    logs.register_secret(*(k.secret.reveal() for k in keys))
    return MediaTokens(keys)


def reset() -> None:
    """Forget every cached setting and client (tests, after changing the environment)."""
    for builder in (
        settings,
        session_codec,
        session_store,
        firestore_client,
        firebase_app,
        account_store,
        vault,
        tiktok,
        login_kit,
        post_store,
        publisher,
        status_store,
        tracker,
        snapshotter,
        analytics_store,
        pubsub,
        outbox,
        staging,
        media_tokens,
    ):
        builder.cache_clear()
    _last_drain[0] = None
