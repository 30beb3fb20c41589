"""What the policy states, gathered from the code's constants and the deployment's settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from deploy.settings import KMS_ROTATION, DeploySettings
from deploy.table import TTL_COLLECTION_GROUPS
from shared.accounts.connect import STATE_TTL
from shared.config import DEFAULT_SCOPES, DEFAULT_SESSION_TTL
from shared.publishing.drafts import DRAFT_TTL
from shared.publishing.publish import IDEMPOTENCY_TTL
from shared.status.poll import POLL_WINDOW_SECONDS
from shared.store.analytics import RETENTION as ANALYTICS_RETENTION
from shared.store.media import READY_TTL
from shared.store.outbox import EVENT_TTL
from shared.store.receipts import RECEIPT_TTL
from shared.tokens.refresh import LEASE_TTL

OPERATOR_FILE = Path(__file__).with_name("operator.toml")
OPERATOR_KEYS = ("company", "contact_email", "postal_address", "governing_law", "effective_date")

# What each TikTok scope the deployment may request is used for. A requested scope missing here
# cannot be rendered: the policy must say why every permission is asked for.
SCOPE_USES = {
    "user.info.basic": "your TikTok open id, display name and avatar, to show which account is "
    "connected",
    "user.info.profile": "your username, bio, profile link and verified badge, shown on the "
    "accounts page",
    "user.info.stats": "your follower, following, like and video counts, shown on the accounts "
    "page",
    "video.publish": "posting the videos and photos you confirm directly to your TikTok profile",
    "video.upload": "sending the videos and photos you confirm to your TikTok inbox as drafts",
    "video.list": "listing your public TikTok videos and refreshing their cover images",
}


class PolicyError(ValueError):
    """The policy cannot be rendered as asked; the message says what is missing."""


@dataclass(frozen=True)
class Operator:
    company: str
    contact_email: str
    postal_address: str
    governing_law: str
    effective_date: str

    @classmethod
    def load(cls, path: Path = OPERATOR_FILE) -> Operator:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PolicyError(f"cannot read the operator file {path}: {exc}") from None
        missing = [key for key in OPERATOR_KEYS if not str(data.get(key, "")).strip()]
        if missing:
            raise PolicyError(f"{path} lacks {', '.join(missing)}")
        return cls(**{key: str(data[key]).strip() for key in OPERATOR_KEYS})


@dataclass(frozen=True)
class Retention:
    """One kind of stored record and how long it lives."""

    what: str
    where: str  # the Firestore collection group
    kept: str  # in words, from the constant


@dataclass(frozen=True)
class Facts:
    """Everything the generated text depends on. Two deployments with equal facts get one text."""

    app_origin: str
    scopes: tuple[str, ...]
    session_ttl: timedelta
    firestore_location: str
    kms_location: str
    kms_rotation: timedelta
    log_retention_days: int | None  # None: the platform's default bucket retention

    @property
    def retention(self) -> tuple[Retention, ...]:
        """Every collection group under a TTL policy, in the deploy table's order."""
        described = {
            "oauth_states": ("Connection attempts to TikTok (the single-use state)", STATE_TTL),
            "drafts": ("Publish requests prepared for you but not confirmed", DRAFT_TTL),
            "idempotency": ("Replays of a publish request (idempotency keys)", IDEMPOTENCY_TTL),
            "leases": ("Token refresh locks", LEASE_TTL),
            "webhook_events": ("Receipts of TikTok's status notifications", RECEIPT_TTL),
            "sessions": (
                "Your sign-in sessions (ended at once when you sign out)",
                self.session_ttl,
            ),
            # A budget document lives two windows (shared/store/budgets.py take_poll).
            "poll_budgets": (
                "Counters that pace status checks with TikTok",
                timedelta(seconds=POLL_WINDOW_SECONDS * 2),
            ),
            # A checked slot no post took; a post's media is deleted as soon as it is final.
            "media": ("Records of photos and videos you staged for a post", READY_TTL),
            "analytics": (
                "Daily snapshots of your accounts' follower counts and your videos' views, likes, "
                "comments and shares (your analytics)",
                ANALYTICS_RETENTION,
            ),
            "event_outbox": (
                "Notices that one of your posts or accounts changed status (ids, status and "
                "reason code only), sent to the service's operator for alerts",
                EVENT_TTL,
            ),
        }
        missing = [group for group in TTL_COLLECTION_GROUPS if group not in described]
        if missing:
            raise PolicyError(f"collections with a TTL policy but no description: {missing}")
        return tuple(
            Retention(described[g][0], g, duration(described[g][1])) for g in TTL_COLLECTION_GROUPS
        )

    def kept(self, group: str) -> str:
        return next(r.kept for r in self.retention if r.where == group)


def duration(value: timedelta) -> str:
    """A whole number of the largest unit that divides the duration, in words."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return "0 seconds"


def _scopes(raw: str) -> tuple[str, ...]:
    scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
    unknown = [s for s in scopes if s not in SCOPE_USES]
    if unknown:
        raise PolicyError(
            f"scopes without a stated use: {', '.join(unknown)} (add them to SCOPE_USES)"
        )
    return scopes


def from_deploy(settings: DeploySettings) -> Facts:
    """The facts of a real deployment, from the same settings ``scripts/deploy`` uses."""
    env = dict(settings.optional_env)
    return Facts(
        app_origin=settings.app_origin,
        scopes=_scopes(env.get("TIKTOK_SCOPES") or DEFAULT_SCOPES),
        session_ttl=timedelta(seconds=int(env.get("SESSION_TTL_SECONDS") or DEFAULT_SESSION_TTL)),
        firestore_location=settings.firestore_location,
        kms_location=settings.kms_location,
        kms_rotation=KMS_ROTATION,
        log_retention_days=int(settings.log_retention_days),
    )


def local_stack(app_origin: str = "http://127.0.0.1:5000") -> Facts:
    """The facts of the local stack: emulators on the developer's machine, default settings."""
    return Facts(
        app_origin=app_origin,
        scopes=_scopes(DEFAULT_SCOPES),
        session_ttl=timedelta(seconds=DEFAULT_SESSION_TTL),
        firestore_location="the Firestore emulator on this machine",
        kms_location="the local key service on this machine",
        kms_rotation=KMS_ROTATION,
        log_retention_days=None,
    )
