"""`scripts/deploy`: print every command that deploys the project, or run them (`--apply`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from deploy.media import write_bucket_files
from deploy.plan import PlanError, build_plan
from deploy.runner import DeployError, apply_plan, print_plan
from deploy.settings import DeploySettings, SettingsError, load
from deploy.source import build_source
from deploy.table import ROOT

DRY_RUN_SOURCE = (
    "<deploy source: built by --apply from main.py, functions/, shared/, requirements.txt>"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/deploy",
        description="Deploy the TikTok publisher to Google Cloud. Prints the commands (dry run) "
        "unless --apply is given. Each flag falls back to the environment variable named.",
    )
    p.add_argument("--apply", action="store_true", help="run the commands instead of printing")
    for flag, var in (
        ("--project", "GOOGLE_CLOUD_PROJECT"),
        ("--region", "DEPLOY_REGION; default: the region of firebase.json's rewrites"),
        ("--app-origin", "APP_ORIGIN, the frontend's https origin"),
        ("--tiktok-client-key", "TIKTOK_CLIENT_KEY"),
        ("--redirect-uri", "TIKTOK_REDIRECT_URI; default: APP_ORIGIN/api/tiktok/callback"),
        ("--kms-location", "KMS_LOCATION; default: the region"),
        ("--keyring", "KMS_KEYRING; default: tiktok-publisher"),
        ("--key", "KMS_KEY; default: token-wrap"),
        ("--firestore-location", "FIRESTORE_LOCATION; default: the region"),
        ("--schedule", "REFRESH_SCHEDULE; default: every 10 minutes"),
        ("--log-retention-days", "LOG_RETENTION_DAYS; default: 30"),
        ("--project-number", "GOOGLE_CLOUD_PROJECT_NUMBER; default: looked up by --apply"),
        ("--media-bucket", "MEDIA_BUCKET; default: <project>-media"),
    ):
        p.add_argument(flag, help=var)
    p.add_argument("--tiktok-client-secret-file", help="else TIKTOK_CLIENT_SECRET")
    p.add_argument("--session-secrets-file", help="else SESSION_SECRETS")
    p.add_argument("--media-url-secrets-file", help="else MEDIA_URL_SECRETS")
    p.add_argument("--source-dir", help="where --apply builds the upload (default: a temp dir)")
    return p


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    try:
        settings = load(vars(args), os.environ if env is None else env)
        if not args.apply:
            if settings.project_number is None:
                out.write(
                    "# The project number is not given (--project-number): the Pub/Sub grant "
                    "below shows PROJECT_NUMBER; --apply looks it up with "
                    f"`gcloud projects describe {settings.project}`.\n"
                )
            print_plan(build_plan(settings, args.source_dir or DRY_RUN_SOURCE), out)
            out.write("\n# Dry run: nothing was changed. Run again with --apply to deploy.\n")
            return 0
        return _apply(args, settings, out)
    except (SettingsError, PlanError) as exc:
        sys.stderr.write(f"deploy: {exc}\n")
        return 2
    except DeployError as exc:
        sys.stderr.write(f"deploy: {exc}\n")
        return 1


def _apply(args: argparse.Namespace, settings: DeploySettings, out: TextIO) -> int:
    missing = settings.missing_secrets()
    if missing:
        raise SettingsError(
            "missing secrets: "
            + "; ".join(f"{name} or --{name.lower().replace('_', '-')}-file" for name in missing)
        )
    for tool in ("gcloud", "firebase"):
        if _tool(tool) is None:
            raise SettingsError(f"{tool} is not on PATH (firebase: npm i -g firebase-tools)")
    if settings.project_number is None:
        settings = dataclasses.replace(settings, project_number=_project_number(settings.project))
    _render_policy(settings)
    source = Path(args.source_dir or tempfile.mkdtemp(prefix="publisher-deploy-"))
    build_source(source)
    write_bucket_files(settings, str(source))
    plan = build_plan(settings, str(source), firebase=str(_tool("firebase")))
    if plan.warnings:
        raise PlanError("; ".join(plan.warnings))
    apply_plan(plan, settings, out)
    out.write("\n# Deployed.\n")
    return 0


def _render_policy(settings: DeploySettings) -> None:
    """Hosting serves /privacy from public/privacy.html: the policy of this very deployment."""
    from deploy.policy.__main__ import render
    from deploy.policy.facts import Operator, PolicyError, from_deploy

    try:
        operator = Operator.load()
        if any(value.startswith("[") for value in vars(operator).values()):
            raise PolicyError(
                "deploy/policy/operator.toml still holds placeholders: fill in your company, "
                "contact, address, governing law and effective date before deploying"
            )
        page = render(from_deploy(settings), operator, fmt="html")
    except PolicyError as exc:
        raise SettingsError(f"privacy policy: {exc}") from None
    (ROOT / "public" / "privacy.html").write_text(page)


def _project_number(project: str) -> str:
    argv = ["gcloud", "projects", "describe", project, "--format=value(projectNumber)"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    number = result.stdout.strip()
    if result.returncode != 0 or not number.isdigit():
        raise DeployError(
            f"cannot read the number of project {project} ({' '.join(argv)}): "
            f"{result.stderr.strip() or number}; pass --project-number"
        )
    return number


def _tool(name: str) -> str | None:
    """A tool on PATH; firebase also from the local stack's pinned firebase-tools."""
    found = shutil.which(name)
    if found is None and name == "firebase":
        pinned = ROOT / "emulator" / "node_modules" / ".bin" / "firebase"
        return str(pinned) if pinned.exists() else None
    return found
