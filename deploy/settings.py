"""The deploy settings: flags first, then the operator's environment, validated before any command.

Secret values are read here (from the environment or a file) and kept in :class:`~shared.config.
Secret`, whose ``repr`` never shows them; nothing else in the deploy package reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploy.table import BUILD_ACCOUNT, EVENTS_ACCOUNT, ROOT, RUNTIME_ACCOUNT, SECRETS
from shared.config import Secret, Settings
from shared.errors import ConfigError
from shared.jobs import job

# Function settings the operator may set; passed through unchanged when present.
OPTIONAL_ENV = (
    "SESSION_TTL_SECONDS",
    "TIKTOK_SCOPES",
    "TIKTOK_API_BASE",
    "TIKTOK_AUTH_URL",
    "PUBLISH_CHUNK_LIMIT_BYTES",
    "ANALYTICS_MAX_VIDEOS",
    "SCHEDULE_MAX_DAYS",
)
KMS_ROTATION = timedelta(days=90)
LOG_RETENTION_DAYS = "30"  # Cloud Logging accepts 1 to 3650 days for a bucket.
# Stands in for the project number in the dry run when it is not given; --apply looks it up.
PROJECT_NUMBER_PLACEHOLDER = "PROJECT_NUMBER"
# Stands in for a secret value in the dry run and when validating the functions' environment.
_STAND_IN = {
    "TIKTOK_CLIENT_SECRET": "stand-in-client-secret",
    "SESSION_SECRETS": "k1:" + "x" * 43,
    "MEDIA_URL_SECRETS": "m1:" + "x" * 43,
}


class SettingsError(ValueError):
    """A deploy setting is missing or wrong; the message names every flag and variable involved."""


@dataclass(frozen=True)
class DeploySettings:
    project: str
    region: str
    app_origin: str
    tiktok_client_key: str
    redirect_uri: str
    kms_location: str
    keyring: str
    key: str
    firestore_location: str
    schedule: str
    log_retention_days: str
    media_bucket: str
    project_number: str | None  # None: not given; --apply looks it up before building the plan
    optional_env: tuple[tuple[str, str], ...]
    secrets: tuple[tuple[str, Secret | None], ...]  # env var -> value, None when not supplied

    @property
    def kms_key_name(self) -> str:
        return (
            f"projects/{self.project}/locations/{self.kms_location}/keyRings/{self.keyring}"
            f"/cryptoKeys/{self.key}"
        )

    @property
    def runtime_account(self) -> str:
        return f"{RUNTIME_ACCOUNT}@{self.project}.iam.gserviceaccount.com"

    @property
    def events_account(self) -> str:
        return f"{EVENTS_ACCOUNT}@{self.project}.iam.gserviceaccount.com"

    @property
    def build_account(self) -> str:
        return f"{BUILD_ACCOUNT}@{self.project}.iam.gserviceaccount.com"

    @property
    def pubsub_agent(self) -> str:
        """Pub/Sub's service agent, which signs the push requests Eventarc makes."""
        number = self.project_number or PROJECT_NUMBER_PLACEHOLDER
        return f"service-{number}@gcp-sa-pubsub.iam.gserviceaccount.com"

    @property
    def next_rotation_time(self) -> str:
        when = datetime.now(UTC) + KMS_ROTATION
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def function_env(self) -> dict[str, str]:
        """The plain (non-secret) environment every function gets."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "APP_ORIGIN": self.app_origin,
            "TIKTOK_CLIENT_KEY": self.tiktok_client_key,
            "TIKTOK_REDIRECT_URI": self.redirect_uri,
            "KMS_KEY_NAME": self.kms_key_name,
            "MEDIA_BUCKET": self.media_bucket,
        }
        env.update(self.optional_env)
        return env

    def secret_value(self, env_var: str) -> Secret | None:
        return dict(self.secrets)[env_var]

    def missing_secrets(self) -> list[str]:
        return [name for name, value in self.secrets if value is None]


def hosting_region(root: Path = ROOT) -> str | None:
    """The one region Firebase Hosting's rewrites send requests to, or None if there are none."""
    config = json.loads((root / "firebase.json").read_text())
    regions = {
        rewrite["function"].get("region", "us-central1")
        for rewrite in config.get("hosting", {}).get("rewrites", [])
        if isinstance(rewrite.get("function"), dict)
    }
    if len(regions) > 1:
        raise SettingsError(f"firebase.json rewrites name several regions: {sorted(regions)}")
    return regions.pop() if regions else None


def load(flags: Mapping[str, str | None], env: Mapping[str, str]) -> DeploySettings:
    """Build the settings from flags (by dest name) and environment; raise naming what is wrong."""
    missing: list[str] = []

    def pick(flag: str, var: str, default: str | None = None) -> str:
        value = flags.get(flag.removeprefix("--").replace("-", "_")) or env.get(var, "").strip()
        if value:
            return value
        if default is None:
            missing.append(f"{flag} or {var}")
            return ""
        return default

    hosting = hosting_region()
    project = pick("--project", "GOOGLE_CLOUD_PROJECT")
    region = pick("--region", "DEPLOY_REGION", hosting)  # default: where Hosting sends requests
    app_origin = pick("--app-origin", "APP_ORIGIN")
    client_key = pick("--tiktok-client-key", "TIKTOK_CLIENT_KEY")
    if missing:
        raise SettingsError("missing deploy settings: " + "; ".join(missing))
    if hosting is not None and hosting != region:
        raise SettingsError(
            f"--region {region} differs from the region firebase.json's Hosting rewrites call "
            f"({hosting}); change one of them"
        )

    settings = DeploySettings(
        project=project,
        region=region,
        app_origin=app_origin.rstrip("/"),
        tiktok_client_key=client_key,
        redirect_uri=pick(
            "--redirect-uri", "TIKTOK_REDIRECT_URI", app_origin.rstrip("/") + "/api/tiktok/callback"
        ),
        kms_location=pick("--kms-location", "KMS_LOCATION", region),
        keyring=pick("--keyring", "KMS_KEYRING", "tiktok-publisher"),
        key=pick("--key", "KMS_KEY", "token-wrap"),
        firestore_location=pick("--firestore-location", "FIRESTORE_LOCATION", region),
        schedule=pick("--schedule", "REFRESH_SCHEDULE", job("refresh_tokens").schedule or ""),
        log_retention_days=_retention(
            pick("--log-retention-days", "LOG_RETENTION_DAYS", LOG_RETENTION_DAYS)
        ),
        media_bucket=pick("--media-bucket", "MEDIA_BUCKET", f"{project}-media"),
        project_number=_project_number(
            flags.get("project_number")
            or env.get("GOOGLE_CLOUD_PROJECT_NUMBER", "").strip()
            or None
        ),
        optional_env=tuple((name, env[name]) for name in OPTIONAL_ENV if env.get(name)),
        secrets=tuple(
            (name, _secret(flags.get(name.lower() + "_file"), env, name)) for name in SECRETS
        ),
    )
    _validate_function_env(settings)
    return settings


def _retention(value: str) -> str:
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise SettingsError(
            f"--log-retention-days / LOG_RETENTION_DAYS must be a whole number of days from 1 to "
            f"3650, not {value!r}"
        )
    return str(int(value))


def _project_number(value: str | None) -> str | None:
    if value is not None and not value.isdigit():
        raise SettingsError(
            "--project-number / GOOGLE_CLOUD_PROJECT_NUMBER must be the project's number "
            f"(digits, from `gcloud projects describe`), not {value!r}"
        )
    return value


def _secret(path: str | None, env: Mapping[str, str], name: str) -> Secret | None:
    """The secret from ``--<name>-file`` (trailing newline dropped) or the environment."""
    if path:
        try:
            value = Path(path).read_text().rstrip("\n")
        except OSError as exc:
            raise SettingsError(f"cannot read {name} from {path}: {exc.strerror}") from None
    else:
        value = env.get(name, "")
    return Secret(value) if value else None


def _validate_function_env(settings: DeploySettings) -> None:
    """Check the environment the functions will get with their own validation (shared.config)."""
    env = settings.function_env()
    for name, value in settings.secrets:
        env[name] = value.reveal() if value is not None else _STAND_IN[name]
    try:
        deployed = Settings.from_env(env)
    except ConfigError as exc:
        raise SettingsError(f"the functions would refuse this environment: {exc}") from None
    if deployed.is_demo_project:
        raise SettingsError("GOOGLE_CLOUD_PROJECT is a demo- project, which exists only locally")
