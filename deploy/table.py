"""What the project deploys: one table of functions, plus the fixed names of its other resources.

Adding a Cloud Function is one row in :data:`FUNCTIONS` (and its export in ``main.py``). The
Pub/Sub topic names are the ones ``shared/tokens/scheduler.py`` publishes to (a test holds them
equal).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HTTP = "http"
RUN_TOPIC = "token-refresh"  # Cloud Scheduler publishes here (shared/tokens/scheduler.py).
BATCH_TOPIC = "token-refresh-batch"  # refresh_tokens fans batches out here.
TOPICS = (RUN_TOPIC, BATCH_TOPIC)


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function: its entry point in ``main.py`` is its name."""

    name: str
    trigger: str  # HTTP, or the Pub/Sub topic that triggers it
    memory: str = "512Mi"
    cpu: str = "1"
    timeout: str = "60s"
    concurrency: int = 40
    max_instances: int = 20

    @property
    def is_http(self) -> bool:
        return self.trigger == HTTP


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("session", HTTP),
    FunctionSpec("tiktok_oauth", HTTP),
    FunctionSpec("accounts", HTTP, timeout="300s"),  # DELETE /api/me revokes every account.
    # Chunk relays hold up to PUBLISH_CHUNK_LIMIT_BYTES (32 MB) in flight per request.
    FunctionSpec("publish_init", HTTP, memory="1Gi", timeout="300s", concurrency=8),
    FunctionSpec("publish_status", HTTP),
    # One scheduled run at a time; batches are few and each refresh is I/O bound.
    FunctionSpec("refresh_tokens", RUN_TOPIC, timeout="300s", concurrency=1, max_instances=1),
    FunctionSpec("refresh_batch", BATCH_TOPIC, timeout="300s", concurrency=4, max_instances=10),
)

# Collection groups whose documents carry ``expire_at``: a TTL policy deletes them after expiry.
# The code never relies on TTL having run (every read checks ``expire_at`` itself).
TTL_FIELD = "expire_at"
TTL_COLLECTION_GROUPS = (
    "oauth_states",
    "drafts",
    "idempotency",
    "leases",
    "webhook_events",
    "poll_budgets",
)

SECRETS = {
    # environment variable in the functions -> Secret Manager secret id
    "TIKTOK_CLIENT_SECRET": "tiktok-client-secret",
    "SESSION_SECRETS": "session-secrets",
}

RUNTIME_ACCOUNT = "publisher-functions"  # what the functions run as
EVENTS_ACCOUNT = "publisher-events"  # what Eventarc pushes Pub/Sub messages as
SCHEDULER_JOB = "token-refresh"

# Upload exactly these: the deploy entry module, the functions, their library, the pins.
SOURCE_FILES = ("main.py", "requirements.txt")
SOURCE_PACKAGES = ("functions", "shared")


def main_exports(root: Path = ROOT) -> tuple[str, ...]:
    """The names in ``main.__all__``, read without importing ``main`` (no dependencies needed)."""
    tree = ast.parse((root / "main.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            return tuple(str(name) for name in value)
    raise ValueError("main.py has no __all__ listing its entry points")
