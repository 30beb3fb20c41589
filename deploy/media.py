"""The staging bucket: created private (uniform bucket-level access, public access prevented, no
soft delete, so a deleted object is gone), with CORS for the app's origin (the browser uploads
straight to it) and a lifecycle rule deleting any object older than :func:`lifecycle_days` (the
backstop: the code deletes each object as soon as its post is final or cancelled,
docs/media.md). The runtime account may manage objects in this bucket only.
"""

from __future__ import annotations

import json
from pathlib import Path

from deploy.settings import DeploySettings
from deploy.steps import Step, check, gcloud
from shared.config import DEFAULT_SCHEDULE_MAX_DAYS
from shared.publishing.staged import USED_TTL
from shared.store.media import READY_TTL


def lifecycle_days(s: DeploySettings) -> int:
    """The oldest a staged object may legitimately be: checked and waiting for its post
    (READY_TTL), scheduled as far ahead as allowed (SCHEDULE_MAX_DAYS), then kept USED_TTL after
    its time when the post never reports; one more day of margin."""
    max_days = int(dict(s.optional_env).get("SCHEDULE_MAX_DAYS", DEFAULT_SCHEDULE_MAX_DAYS))
    return READY_TTL.days + max_days + USED_TTL.days + 1


CORS_FILE = "cors.json"
LIFECYCLE_FILE = "lifecycle.json"


def config_dir(source_dir: str) -> str:
    """Where ``--apply`` writes the bucket's CORS and lifecycle files (beside the upload)."""
    return f"{source_dir.rstrip('/')}.bucket"


def bucket_files(s: DeploySettings) -> dict[str, str]:
    cors = [
        {
            "origin": [s.app_origin],
            "method": ["PUT", "POST", "GET"],
            "responseHeader": ["Content-Type", "Content-Range", "Range", "Location"],
            "maxAgeSeconds": 3600,
        }
    ]
    age = lifecycle_days(s)
    lifecycle = {"rule": [{"action": {"type": "Delete"}, "condition": {"age": age}}]}
    return {CORS_FILE: json.dumps(cors, indent=2), LIFECYCLE_FILE: json.dumps(lifecycle, indent=2)}


def write_bucket_files(s: DeploySettings, source_dir: str) -> None:
    folder = Path(config_dir(source_dir))
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in bucket_files(s).items():
        (folder / name).write_text(text + "\n")


def bucket_steps(s: DeploySettings, source_dir: str) -> list[Step]:
    url = f"gs://{s.media_bucket}"
    folder = config_dir(source_dir)
    private = ("--uniform-bucket-level-access", "--public-access-prevention")
    return [
        Step(
            f"Staging bucket {url} (private, no soft delete)",
            (
                gcloud(
                    s,
                    "storage buckets create",
                    url,
                    f"--location={s.region}",
                    *private,
                    "--soft-delete-duration=0",
                ),
            ),
            check=check(s, "storage buckets describe", url),
            otherwise=(gcloud(s, "storage buckets update", url, *private, "--clear-soft-delete"),),
        ),
        Step(
            f"{url}: CORS for {s.app_origin}, and delete objects after {lifecycle_days(s)} days",
            (
                gcloud(
                    s,
                    "storage buckets update",
                    url,
                    f"--cors-file={folder}/{CORS_FILE}",
                    f"--lifecycle-file={folder}/{LIFECYCLE_FILE}",
                ),
            ),
        ),
        Step(
            f"The runtime service account manages objects in {url} only",
            (
                gcloud(
                    s,
                    "storage buckets add-iam-policy-binding",
                    url,
                    f"--member=serviceAccount:{s.runtime_account}",
                    "--role=roles/storage.objectAdmin",
                ),
            ),
        ),
    ]
