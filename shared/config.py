"""Settings read once from the environment, typed and validated, with secrets masked in ``repr``.

The environment variables (the README's Configuration table) are the one configuration contract.
A missing or malformed setting raises :class:`~shared.errors.ConfigError` naming it, so a function
fails at start rather than on the first request that needs the value.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.errors import ConfigError
from shared.publishing.chunks import DEFAULT_REQUEST_LIMIT, MAX_REQUEST_BYTES, MIN_CHUNK

DEFAULT_ANALYTICS_MAX_VIDEOS = 100
DEFAULT_SCHEDULE_MAX_DAYS = 30
MAX_SCHEDULE_MAX_DAYS = 365
DEFAULT_SCOPES = (
    "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload,video.list"
)
DEFAULT_SESSION_TTL = 14 * 24 * 3600
MIN_SECRET_BYTES = 32
_KMS_KEY_RE = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_KID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_HOST_PORT_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


class Secret:
    """A secret value that never renders itself: ``str``, ``repr``, f-strings, ``%`` and
    ``json.dumps(..., default=str)`` all show a mask, ``+`` and plain ``json.dumps`` refuse it.
    Only :meth:`reveal`, called where the value is really used (signing, a token request), gives
    the value.
    """

    __slots__ = ("_value",)
    _MASK = "**********"

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The secret value itself; call only where the value is used, never to log or show it."""
        value: str = object.__getattribute__(self, "_value")
        return value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Secret is immutable")

    def __repr__(self) -> str:
        return f"Secret('{self._MASK}')"

    def __str__(self) -> str:
        return self._MASK

    def __format__(self, spec: str) -> str:
        return format(self._MASK, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self.reveal().encode(), other.reveal().encode())

    def __hash__(self) -> int:
        return hash((Secret, self.reveal()))

    def __bool__(self) -> bool:
        return bool(self.reveal())

    def __copy__(self) -> Secret:
        return self  # Immutable: a copy (dataclasses.asdict makes one) is the same secret.

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")  # A pickle would carry the value.


@dataclass(frozen=True)
class SessionKey:
    kid: str
    secret: Secret


@dataclass(frozen=True)
class Settings:
    project_id: str
    app_origin: str
    session_keys: tuple[SessionKey, ...]
    session_ttl_seconds: int
    tiktok_client_key: str
    tiktok_client_secret: Secret
    tiktok_redirect_uri: str
    tiktok_scopes: tuple[str, ...]
    tiktok_api_base: str
    tiktok_auth_url: str
    kms_key_name: str
    publish_chunk_limit: int = DEFAULT_REQUEST_LIMIT
    analytics_max_videos: int = DEFAULT_ANALYTICS_MAX_VIDEOS
    schedule_max_days: int = DEFAULT_SCHEDULE_MAX_DAYS
    kms_emulator_host: str | None = None
    firestore_emulator_host: str | None = None
    auth_emulator_host: str | None = None
    pubsub_emulator_host: str | None = None
    media_bucket: str | None = None
    media_url_keys: tuple[SessionKey, ...] = ()
    storage_emulator_host: str | None = None
    k_service: str | None = field(default=None, repr=False)

    @property
    def is_demo_project(self) -> bool:
        return self.project_id.startswith("demo-")

    @property
    def secure_cookies(self) -> bool:
        return self.app_origin.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build and validate the settings; raise ConfigError naming the first bad variable."""
        project_id = _required(env, "GOOGLE_CLOUD_PROJECT")
        if not re.fullmatch(r"[a-z][a-z0-9-]{4,61}[a-z0-9]", project_id):
            raise ConfigError(f"GOOGLE_CLOUD_PROJECT is not a valid project id: {project_id!r}")
        demo = project_id.startswith("demo-")

        auth_emulator = _host_port(env, "FIREBASE_AUTH_EMULATOR_HOST")
        k_service = env.get("K_SERVICE") or None
        if auth_emulator and k_service and not demo:
            # firebase-admin accepts unsigned ID tokens whenever this variable is set.
            raise ConfigError(
                "FIREBASE_AUTH_EMULATOR_HOST is set in a deployed function (K_SERVICE) of a "
                "non-demo project; refusing to start because it would accept unsigned ID tokens"
            )

        return cls(
            project_id=project_id,
            app_origin=_origin(_required(env, "APP_ORIGIN"), "APP_ORIGIN", demo),
            session_keys=_session_keys(_required(env, "SESSION_SECRETS"), "SESSION_SECRETS"),
            session_ttl_seconds=_bounded_int(
                env, "SESSION_TTL_SECONDS", DEFAULT_SESSION_TTL, 1, 400 * 24 * 3600
            ),
            tiktok_client_key=_required(env, "TIKTOK_CLIENT_KEY"),
            tiktok_client_secret=Secret(_required(env, "TIKTOK_CLIENT_SECRET")),
            tiktok_redirect_uri=_url(
                _required(env, "TIKTOK_REDIRECT_URI"), "TIKTOK_REDIRECT_URI", demo, path_ok=True
            ),
            tiktok_scopes=_scopes(env.get("TIKTOK_SCOPES") or DEFAULT_SCOPES),
            tiktok_api_base=_url(
                env.get("TIKTOK_API_BASE") or "https://open.tiktokapis.com",
                "TIKTOK_API_BASE",
                demo,
                path_ok=False,
            ),
            tiktok_auth_url=_url(
                env.get("TIKTOK_AUTH_URL") or "https://www.tiktok.com/v2/auth/authorize/",
                "TIKTOK_AUTH_URL",
                demo,
                path_ok=True,
            ),
            kms_key_name=_kms_key(_required(env, "KMS_KEY_NAME")),
            # Largest chunk relayed in one request: by default what a 5 Mbps uplink sends within
            # Hosting's 60 s; never above Cloud Functions' 32 MiB request limit, nor below TikTok's
            # 5 MB chunks (shared/publishing/chunks.py).
            publish_chunk_limit=_bounded_int(
                env,
                "PUBLISH_CHUNK_LIMIT_BYTES",
                DEFAULT_REQUEST_LIMIT,
                MIN_CHUNK,
                MAX_REQUEST_BYTES,
            ),
            # Videos per account in each daily snapshot: 20 a TikTok call, at most 1,000.
            analytics_max_videos=_bounded_int(
                env, "ANALYTICS_MAX_VIDEOS", DEFAULT_ANALYTICS_MAX_VIDEOS, 0, 1000
            ),
            # How far ahead a post may be scheduled, in days (staged media waits that long).
            schedule_max_days=_bounded_int(
                env, "SCHEDULE_MAX_DAYS", DEFAULT_SCHEDULE_MAX_DAYS, 1, MAX_SCHEDULE_MAX_DAYS
            ),
            kms_emulator_host=_host_port(env, "KMS_EMULATOR_HOST"),
            firestore_emulator_host=_host_port(env, "FIRESTORE_EMULATOR_HOST"),
            auth_emulator_host=auth_emulator,
            pubsub_emulator_host=_host_port(env, "PUBSUB_EMULATOR_HOST"),
            media_bucket=_bucket(env.get("MEDIA_BUCKET", "").strip()),
            media_url_keys=(
                _session_keys(env["MEDIA_URL_SECRETS"], "MEDIA_URL_SECRETS")
                if env.get("MEDIA_URL_SECRETS", "").strip()
                else ()
            ),
            storage_emulator_host=_storage_emulator(env.get("STORAGE_EMULATOR_HOST", "").strip()),
            k_service=k_service,
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _bounded_int(
    env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def is_loopback(host: str) -> bool:
    """A loopback host: where the local emulators and fakes listen."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(raw: str, name: str, demo: bool, *, path_ok: bool) -> str:
    """An absolute URL; plain http only for a loopback host in a demo project (the emulators)."""
    parts = urlsplit(raw)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{name} must be an absolute https URL, got {raw!r}")
    if parts.scheme == "http" and not (demo and is_loopback(parts.hostname)):
        raise ConfigError(
            f"{name} must use https (plain http is allowed only for a loopback emulator in a "
            f"demo- project), got {raw!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not carry a query string or fragment, got {raw!r}")
    if not path_ok and parts.path not in ("", "/"):
        raise ConfigError(f"{name} must be a bare origin without a path, got {raw!r}")
    return raw.rstrip("/") if not path_ok else raw


def _origin(raw: str, name: str, demo: bool) -> str:
    value = _url(raw, name, demo, path_ok=False)
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}"


def _session_keys(raw: str, name: str) -> tuple[SessionKey, ...]:
    keys: list[SessionKey] = []
    seen: set[str] = set()
    for index, item in enumerate(raw.split(",")):
        kid, sep, secret = item.strip().partition(":")
        if not sep or not _KID_RE.match(kid):
            raise ConfigError(
                f"{name} entry {index + 1} must be 'kid:secret' with a kid of letters, "
                "digits, '.', '_' or '-'"
            )
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"{name} entry {index + 1} (kid {kid!r}) is shorter than {MIN_SECRET_BYTES} bytes"
            )
        if kid in seen:
            raise ConfigError(f"{name} names kid {kid!r} twice")
        seen.add(kid)
        keys.append(SessionKey(kid=kid, secret=Secret(secret)))
    return tuple(keys)


def _bucket(raw: str) -> str | None:
    """A Cloud Storage bucket name (https://cloud.google.com/storage/docs/buckets#naming)."""
    if not raw:
        return None
    if not _BUCKET_RE.match(raw) or ".." in raw:
        raise ConfigError(f"MEDIA_BUCKET is not a valid bucket name: {raw!r}")
    return raw


def _storage_emulator(raw: str) -> str | None:
    """fake-gcs-server's base URL, as google-cloud-storage reads it: http(s)://host:port."""
    if not raw:
        return None
    parts = urlsplit(raw if "//" in raw else f"http://{raw}")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"STORAGE_EMULATOR_HOST must be http://host:port, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _scopes(raw: str) -> tuple[str, ...]:
    scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
    for scope in scopes:
        if not re.fullmatch(r"[a-z]+(\.[a-z]+)+", scope):
            raise ConfigError(f"TIKTOK_SCOPES holds a malformed scope: {scope!r}")
    if not scopes:
        raise ConfigError("TIKTOK_SCOPES is empty")
    return scopes


def _kms_key(raw: str) -> str:
    if not _KMS_KEY_RE.match(raw):
        raise ConfigError(
            "KMS_KEY_NAME must look like projects/P/locations/L/keyRings/R/cryptoKeys/K, "
            f"got {raw!r}"
        )
    return raw


def _host_port(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if "//" in raw or not _HOST_PORT_RE.match(raw):
        raise ConfigError(f"{name} must be host:port, got {raw!r}")
    return raw
