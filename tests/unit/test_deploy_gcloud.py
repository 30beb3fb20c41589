"""Every gcloud command the dry run prints passes the installed gcloud's own argument parser.

Each command (and each read-only check) runs offline with a throwaway configuration: no account,
no metadata server lookups, no prompts. gcloud parses the whole command line and resolves the
resources it names before it asks for credentials, so a command that stops at "no active account"
was understood; one that stops anywhere else (an unrecognised flag or value, a resource it cannot
resolve) would fail the same way in a real deploy. The run without a default project catches a
resource resolved against the default project instead of ``--project``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from deploy import cli
from deploy.plan import build_plan
from deploy.settings import load

GCLOUD = shutil.which("gcloud")
pytestmark = pytest.mark.skipif(
    GCLOUD is None,
    reason="gcloud is not on PATH: install the Google Cloud SDK to check the deploy plan",
)
# What gcloud says when it has understood a command and needs credentials to run it.
NO_CREDENTIALS = (
    "You do not currently have an active account selected",
    "does not have any valid credentials",
)
DEPLOY_ENV = {
    "GOOGLE_CLOUD_PROJECT": "acme-publisher",
    "APP_ORIGIN": "https://app.acme.example",
    "TIKTOK_CLIENT_KEY": "aw1234client",
    "TIKTOK_SCOPES": "user.info.basic,video.publish,video.upload",  # a comma: the ^;^ syntax
    "PUBLISH_CHUNK_LIMIT_BYTES": "20000000",
}
WORKERS = 8  # gcloud spends ~1 s starting; the commands wait on that, not on each other


def gcloud_argvs() -> list[tuple[str, ...]]:
    """What the dry run prints for gcloud: every command of every branch, and every check."""
    plan = build_plan(load({}, DEPLOY_ENV), cli.DRY_RUN_SOURCE)
    checks = [step.check.argv for step in plan.steps if step.check is not None]
    argvs = [c.argv for c in plan.commands()] + checks
    return [argv for argv in argvs if argv[0] == "gcloud"]


def config_dir(tmp_path: Path, default_project: str | None) -> Path:
    """A fresh gcloud configuration; with ``default_project`` as ``core/project`` when given."""
    config = tmp_path / ("with-default" if default_project else "no-default")
    (config / "configurations").mkdir(parents=True)
    (config / "active_config").write_text("default")
    core = f"[core]\nproject = {default_project}\n" if default_project else ""
    (config / "configurations" / "config_default").write_text(core)
    return config


def gcloud_env(config: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "TMPDIR")}
    return {
        **keep,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_METRICS_ENVIRONMENT": "publisher-tests",
    }


def run_all(argvs: list[tuple[str, ...]], env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(command, what gcloud said) for each command that stopped anywhere but at credentials."""

    def run(argv: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str]]:
        done = subprocess.run(
            [str(GCLOUD), *argv[1:]],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return argv, done

    with ThreadPoolExecutor(WORKERS) as pool:
        for argv, done in pool.map(run, argvs):
            said = (done.stderr + done.stdout).strip()
            if done.returncode == 0 or not any(m in said for m in NO_CREDENTIALS):
                yield " ".join(argv), said


@pytest.mark.parametrize("default_project", [None, "some-other-project"])
def test_every_gcloud_command_parses(tmp_path: Path, default_project: str | None) -> None:
    argvs = gcloud_argvs()
    assert len(argvs) > 30  # the whole plan, not a slice of it
    env = gcloud_env(config_dir(tmp_path, default_project))
    refused = list(run_all(argvs, env))
    assert not refused, "gcloud refused:\n" + "\n\n".join(f"{c}\n  -> {s}" for c, s in refused)


def test_the_check_tells_a_parse_error_from_missing_credentials(tmp_path: Path) -> None:
    """The test above can fail: a wrong flag, and a bare topic without a default project."""
    env = gcloud_env(config_dir(tmp_path, None))
    wrong = [
        ("gcloud", "pubsub", "topics", "create", "t", "--no-such-flag", "--project=p"),
        (
            "gcloud", "scheduler", "jobs", "create", "pubsub", "j", "--location=us-central1",
            "--schedule=* * * * *", "--topic=bare-name", "--message-body={}", "--project=p",
        ),
    ]  # fmt: skip
    right = [("gcloud", "pubsub", "topics", "create", "t", "--project=p")]
    refused = [command for command, _ in run_all([*wrong, *right], env)]
    assert refused == [" ".join(argv) for argv in wrong]
