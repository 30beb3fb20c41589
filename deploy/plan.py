"""The deploy plan: every ``gcloud`` and ``firebase`` command, in order, as data (deploy.steps);
the service accounts and their grants are in deploy.iam."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from deploy.iam import build_grant, grants, push_token_grant, service_accounts
from deploy.media import bucket_steps
from deploy.settings import DeploySettings
from deploy.steps import Command, Step, check, firebase_deploy, gcloud
from deploy.table import (
    FUNCTIONS,
    ROOT,
    SECRETS,
    TOPICS,
    TTL_COLLECTION_GROUPS,
    TTL_FIELD,
    FunctionSpec,
    main_exports,
)

RUNTIME = "python312"
APIS = (
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "cloudscheduler.googleapis.com",
    "cloudkms.googleapis.com",
    "secretmanager.googleapis.com",
    "firestore.googleapis.com",
    "storage.googleapis.com",
    "firebasehosting.googleapis.com",
    # firebase-admin verifies ID tokens with check_revoked and deletes users through Identity
    # Toolkit; the IAM grants below go through IAM and Resource Manager.
    "identitytoolkit.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
)
LOG_BUCKET = "_Default"  # where Cloud Run (the functions) writes its request and stdout logs


class PlanError(ValueError):
    """The function table, ``main.py`` and ``firebase.json`` disagree."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    functions: tuple[FunctionSpec, ...]
    warnings: tuple[str, ...] = field(default=())

    def commands(self) -> list[Command]:
        """Every command any branch of the plan may run (checks excluded)."""
        return [c for step in self.steps for c in (*step.commands, *step.otherwise)]


def deployed_functions(
    exports: Iterable[str] | None = None, rewrites: Iterable[str] | None = None
) -> tuple[tuple[FunctionSpec, ...], tuple[str, ...]]:
    """The table rows ``main.py`` exports, and warnings for rows it does not export (yet).

    Raise PlanError for an export without a row (it would not be deployed) or a Hosting rewrite
    to a function that is not an HTTP row.
    """
    exported = tuple(main_exports() if exports is None else exports)
    by_name = {spec.name: spec for spec in FUNCTIONS}
    unlisted = [name for name in exported if name not in by_name]
    if unlisted:
        raise PlanError(f"main.py exports {unlisted} with no row in deploy/table.py FUNCTIONS")
    targets = hosting_targets() if rewrites is None else set(rewrites)
    not_http = sorted(t for t in targets if t not in by_name or not by_name[t].is_http)
    if not_http:
        raise PlanError(f"firebase.json rewrites to {not_http}, which are not HTTP functions")
    warnings = tuple(
        f"{spec.name} is in the deploy table but main.py does not export it: not deployed"
        + (" (firebase.json's Hosting rewrites to it will fail)" if spec.name in targets else "")
        for spec in FUNCTIONS
        if spec.name not in exported
    )
    return tuple(spec for spec in FUNCTIONS if spec.name in exported), warnings


def hosting_targets() -> set[str]:
    config = json.loads((ROOT / "firebase.json").read_text())
    return {
        rewrite["function"]["functionId"]
        for rewrite in config.get("hosting", {}).get("rewrites", [])
        if isinstance(rewrite.get("function"), dict)
    }


def build_plan(
    settings: DeploySettings,
    source_dir: str,
    *,
    firebase: str = "firebase",
    functions: tuple[FunctionSpec, ...] | None = None,
) -> Plan:
    warnings: tuple[str, ...] = ()
    if functions is None:
        functions, warnings = deployed_functions()
    s = settings
    steps = [
        Step("Enable the APIs", (gcloud(s, "services enable", *APIS),)),
        _firestore(s),
        *_kms(s),
        *_secrets(s),
        *service_accounts(s),
        *(
            Step(
                f"Pub/Sub topic {topic}",
                (gcloud(s, "pubsub topics create", topic),),
                check=check(s, "pubsub topics describe", topic),
            )
            for topic in TOPICS
        ),
        grants(s),
        *bucket_steps(s, source_dir),
        build_grant(s),
        push_token_grant(s),
        *(_function(s, spec, source_dir) for spec in functions),
        *(_scheduler(s, spec) for spec in functions if spec.schedule),
        _log_retention(s),
        Step(
            "Firestore rules and indexes (firestore.indexes.json also declares the TTL policies)",
            (firebase_deploy(s, firebase, "firestore:rules,firestore:indexes"),),
        ),
        *_ttl(s),
        Step("Firebase Hosting with the /api rewrites", (firebase_deploy(s, firebase, "hosting"),)),
    ]
    return Plan(tuple(steps), functions, warnings)


def _kms(s: DeploySettings) -> list[Step]:
    where = (f"--keyring={s.keyring}", f"--location={s.kms_location}")
    rotation = ("--rotation-period=90d", f"--next-rotation-time={s.next_rotation_time}")
    return [
        Step(
            f"KMS key ring {s.keyring}",
            (gcloud(s, "kms keyrings create", s.keyring, f"--location={s.kms_location}"),),
            check=check(s, "kms keyrings describe", s.keyring, f"--location={s.kms_location}"),
        ),
        Step(
            f"KMS key {s.key}: wraps the data keys, rotated every 90 days",
            (gcloud(s, "kms keys create", s.key, *where, "--purpose=encryption", *rotation),),
            check=check(s, "kms keys describe", s.key, *where),
        ),
    ]


def _secrets(s: DeploySettings) -> list[Step]:
    steps = []
    for env_var, secret_id in SECRETS.items():
        steps.append(
            Step(
                f"Secret Manager secret {secret_id} ({env_var})",
                (gcloud(s, "secrets create", secret_id, "--replication-policy=automatic"),),
                check=check(s, "secrets describe", secret_id),
            )
        )
        add = gcloud(s, "secrets versions add", secret_id, "--data-file=-", stdin_secret=env_var)
        latest = check(
            s, "secrets versions access latest", f"--secret={secret_id}", same_secret=env_var
        )
        steps.append(
            Step(
                f"{secret_id}: a new version unless the latest already holds the value",
                (add,),
                check=latest,
            )
        )
    return steps


def _firestore(s: DeploySettings) -> Step:
    """Delete protection and point-in-time recovery on, for a new database and an existing one."""
    safety = ("--delete-protection", "--enable-pitr")
    return Step(
        "Firestore database (default), native mode, delete protection and point-in-time recovery",
        (
            gcloud(
                s,
                "firestore databases create",
                f"--location={s.firestore_location}",
                "--database=(default)",
                *safety,
            ),
        ),
        check=check(s, "firestore databases describe", "--database=(default)"),
        otherwise=(gcloud(s, "firestore databases update", "--database=(default)", *safety),),
    )


def _log_retention(s: DeploySettings) -> Step:
    return Step(
        f"Keep logs {s.log_retention_days} days (the {LOG_BUCKET} bucket the functions write to)",
        (
            gcloud(
                s,
                "logging buckets update",
                LOG_BUCKET,
                "--location=global",
                f"--retention-days={s.log_retention_days}",
            ),
        ),
    )


def _function(s: DeploySettings, spec: FunctionSpec, source_dir: str) -> Step:
    args = [
        spec.name, "--gen2", f"--runtime={RUNTIME}", f"--entry-point={spec.name}",
        f"--source={source_dir}", f"--region={s.region}", f"--memory={spec.memory}",
        f"--cpu={spec.cpu}", f"--timeout={spec.timeout}", f"--concurrency={spec.concurrency}",
        f"--max-instances={spec.max_instances}", f"--service-account={s.runtime_account}",
        f"--build-service-account=projects/{s.project}/serviceAccounts/{s.build_account}",
        f"--set-env-vars={_env_arg(s.function_env())}",
        "--set-secrets=" + ",".join(f"{var}={sid}:latest" for var, sid in SECRETS.items()),
    ]  # fmt: skip
    if spec.is_http:
        # Firebase Hosting calls the function without credentials: it must be publicly
        # invokable. The functions authenticate every request themselves (session cookie,
        # Origin check, TikTok's webhook signature).
        args += ["--trigger-http", "--allow-unauthenticated", "--ingress-settings=all"]
        return Step(
            f"Function {spec.name} (HTTP, public: called by Hosting)",
            (gcloud(s, "functions deploy", *args),),
        )
    # Only Eventarc, pushing Pub/Sub messages as the events account, may call it. --retry:
    # a failed run is redelivered, which the refresh services make harmless.
    args += [
        f"--trigger-topic={spec.trigger}", "--no-allow-unauthenticated",
        "--ingress-settings=internal-only", f"--trigger-service-account={s.events_account}",
        "--retry",
    ]  # fmt: skip
    invoker = gcloud(
        s,
        "functions add-invoker-policy-binding",
        spec.name,
        f"--region={s.region}",
        f"--member=serviceAccount:{s.events_account}",
    )
    return Step(
        f"Function {spec.name} (Pub/Sub topic {spec.trigger}, private)",
        (gcloud(s, "functions deploy", *args), invoker),
    )


def _env_arg(env: Mapping[str, str]) -> str:
    """KEY=VALUE pairs; with gcloud's ``^D^`` delimiter syntax when a value holds a comma."""
    values = "".join(env.values())
    if "," not in values:
        return ",".join(f"{k}={v}" for k, v in env.items())
    delimiter = next(d for d in ";|@#~" if d not in values)
    return f"^{delimiter}^" + delimiter.join(f"{k}={v}" for k, v in env.items())


def _scheduler(s: DeploySettings, spec: FunctionSpec) -> Step:
    """A Cloud Scheduler job (named after its topic) publishing to the function's topic."""
    schedule = s.schedule if spec.name == "refresh_tokens" else spec.schedule
    flags = (
        f"--location={s.region}", f"--schedule={schedule}",
        # The full path: gcloud resolves a bare topic name before it reads --project, against
        # the default project (or fails when there is none).
        f"--topic=projects/{s.project}/topics/{spec.trigger}",
        "--message-body={}", "--time-zone=Etc/UTC",
    )  # fmt: skip
    name = spec.trigger
    return Step(
        f"Cloud Scheduler job {name}: starts {spec.name} ({schedule})",
        (gcloud(s, "scheduler jobs create pubsub", name, *flags),),
        check=check(s, "scheduler jobs describe", name, f"--location={s.region}"),
        otherwise=(gcloud(s, "scheduler jobs update pubsub", name, *flags),),
    )


def _ttl(s: DeploySettings) -> list[Step]:
    """Also declared in firestore.indexes.json; checked first, so a second run changes nothing."""
    return [
        Step(
            f"TTL policy: {group}.{TTL_FIELD}",
            (
                gcloud(
                    s,
                    "firestore fields ttls update",
                    TTL_FIELD,
                    f"--collection-group={group}",
                    "--enable-ttl",
                    "--async",
                ),
            ),
            check=check(
                s,
                "firestore indexes fields describe",
                TTL_FIELD,
                f"--collection-group={group}",
                "--format=value(ttlConfig.state)",
                accept=frozenset({"ACTIVE", "CREATING"}),
            ),
        )
        for group in TTL_COLLECTION_GROUPS
    ]
