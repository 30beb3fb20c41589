"""The deploy plan: every ``gcloud`` and ``firebase`` command, in order, as data.

A :class:`Step` creates one resource (or a few of a kind). Where gcloud has no create-or-update,
a step carries a read-only :class:`Check`; when the check finds the resource, the step runs its
``otherwise`` commands (often none) instead of creating it. The plan never holds a secret value:
a command that needs one names the environment variable whose value is piped to its stdin.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from deploy.settings import DeploySettings
from deploy.table import (
    BATCH_TOPIC,
    BUILD_ACCOUNT,
    EVENTS_ACCOUNT,
    FUNCTIONS,
    ROOT,
    RUN_TOPIC,
    RUNTIME_ACCOUNT,
    SCHEDULER_JOB,
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
    "firebasehosting.googleapis.com",
    # firebase-admin verifies ID tokens with check_revoked and deletes users through Identity
    # Toolkit; the IAM grants below go through IAM and Resource Manager.
    "identitytoolkit.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
)
# What the runtime account may do with Firebase Auth users: verify_id_token(check_revoked=True)
# reads the user (firebaseauth.users.get) and account deletion deletes it (firebaseauth.users.
# delete). firebaseauth.viewer lacks the delete; firebaseauth.admin is the least role with both.
FIREBASE_AUTH_ROLE = "roles/firebaseauth.admin"
# The Cloud Build role a user-specified build service account needs to build a function.
BUILD_ROLE = "roles/cloudbuild.builds.builder"
LOG_BUCKET = "_Default"  # where Cloud Run (the functions) writes its request and stdout logs


class PlanError(ValueError):
    """The function table, ``main.py`` and ``firebase.json`` disagree."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    stdin_secret: str | None = None  # the environment variable whose value goes to stdin


@dataclass(frozen=True)
class Check:
    """A read-only command; the resource exists when it succeeds with an accepted output."""

    argv: tuple[str, ...]
    accept: frozenset[str] | None = None  # accepted stdout (stripped); None accepts any
    same_secret: str | None = None  # stdout must equal this secret's value


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[Command, ...]
    check: Check | None = None
    otherwise: tuple[Command, ...] = ()  # run instead of ``commands`` when the check passes


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
        Step("Enable the APIs", (_g(s, "services enable", *APIS),)),
        _firestore(s),
        *_kms(s),
        *_secrets(s),
        *_service_accounts(s),
        *(
            Step(
                f"Pub/Sub topic {topic}",
                (_g(s, "pubsub topics create", topic),),
                check=_check(s, "pubsub topics describe", topic),
            )
            for topic in TOPICS
        ),
        _grants(s),
        _build_grant(s),
        _push_token_grant(s),
        *(_function(s, spec, source_dir) for spec in functions),
        _scheduler(s),
        _log_retention(s),
        Step(
            "Firestore rules and indexes (firestore.indexes.json also declares the TTL policies)",
            (_firebase(s, firebase, "firestore:rules,firestore:indexes"),),
        ),
        *_ttl(s),
        Step("Firebase Hosting with the /api rewrites", (_firebase(s, firebase, "hosting"),)),
    ]
    return Plan(tuple(steps), functions, warnings)


def _g(s: DeploySettings, words: str, *args: str, stdin_secret: str | None = None) -> Command:
    """``gcloud <words> <args>`` in the project, never prompting."""
    return Command(
        ("gcloud", *words.split(), *args, f"--project={s.project}", "--quiet"), stdin_secret
    )


def _check(
    s: DeploySettings,
    words: str,
    *args: str,
    accept: frozenset[str] | None = None,
    same_secret: str | None = None,
) -> Check:
    return Check(("gcloud", *words.split(), *args, f"--project={s.project}"), accept, same_secret)


def _firebase(s: DeploySettings, firebase: str, only: str) -> Command:
    return Command(
        (firebase, "deploy", "--only", only, "--project", s.project, "--non-interactive")
    )


def _kms(s: DeploySettings) -> list[Step]:
    where = (f"--keyring={s.keyring}", f"--location={s.kms_location}")
    rotation = ("--rotation-period=90d", f"--next-rotation-time={s.next_rotation_time}")
    return [
        Step(
            f"KMS key ring {s.keyring}",
            (_g(s, "kms keyrings create", s.keyring, f"--location={s.kms_location}"),),
            check=_check(s, "kms keyrings describe", s.keyring, f"--location={s.kms_location}"),
        ),
        Step(
            f"KMS key {s.key}: wraps the data keys, rotated every 90 days",
            (_g(s, "kms keys create", s.key, *where, "--purpose=encryption", *rotation),),
            check=_check(s, "kms keys describe", s.key, *where),
        ),
    ]


def _secrets(s: DeploySettings) -> list[Step]:
    steps = []
    for env_var, secret_id in SECRETS.items():
        steps.append(
            Step(
                f"Secret Manager secret {secret_id} ({env_var})",
                (_g(s, "secrets create", secret_id, "--replication-policy=automatic"),),
                check=_check(s, "secrets describe", secret_id),
            )
        )
        add = _g(s, "secrets versions add", secret_id, "--data-file=-", stdin_secret=env_var)
        latest = _check(
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


def _service_accounts(s: DeploySettings) -> list[Step]:
    accounts = (
        (RUNTIME_ACCOUNT, s.runtime_account, "TikTok publisher functions (runtime)"),
        (EVENTS_ACCOUNT, s.events_account, "TikTok publisher Pub/Sub triggers (invoker)"),
        (BUILD_ACCOUNT, s.build_account, "TikTok publisher function builds"),
    )
    return [
        Step(
            f"Service account {email}",
            (_g(s, "iam service-accounts create", name, f"--display-name={title}"),),
            check=_check(s, "iam service-accounts describe", email),
        )
        for name, email, title in accounts
    ]


def _grants(s: DeploySettings) -> Step:
    """Least privilege for the runtime account: only what the functions call."""
    member = f"--member=serviceAccount:{s.runtime_account}"
    key = (s.key, f"--keyring={s.keyring}", f"--location={s.kms_location}")
    return Step(
        "Grant the runtime service account what the functions use, and nothing else",
        (
            _g(
                s,
                "kms keys add-iam-policy-binding",
                *key,
                member,
                "--role=roles/cloudkms.cryptoKeyEncrypterDecrypter",
            ),
            _g(
                s,
                "projects add-iam-policy-binding",
                s.project,
                member,
                "--role=roles/datastore.user",
                "--condition=None",
            ),
            _g(
                s,
                "projects add-iam-policy-binding",
                s.project,
                member,
                f"--role={FIREBASE_AUTH_ROLE}",
                "--condition=None",
            ),
            _g(
                s,
                "pubsub topics add-iam-policy-binding",
                BATCH_TOPIC,
                member,
                "--role=roles/pubsub.publisher",
            ),
            *(
                _g(
                    s,
                    "secrets add-iam-policy-binding",
                    secret_id,
                    member,
                    "--role=roles/secretmanager.secretAccessor",
                )
                for secret_id in SECRETS.values()
            ),
        ),
    )


def _firestore(s: DeploySettings) -> Step:
    """Delete protection and point-in-time recovery on, for a new database and an existing one."""
    safety = ("--delete-protection", "--enable-pitr")
    return Step(
        "Firestore database (default), native mode, delete protection and point-in-time recovery",
        (
            _g(
                s,
                "firestore databases create",
                f"--location={s.firestore_location}",
                "--database=(default)",
                *safety,
            ),
        ),
        check=_check(s, "firestore databases describe", "--database=(default)"),
        otherwise=(_g(s, "firestore databases update", "--database=(default)", *safety),),
    )


def _build_grant(s: DeploySettings) -> Step:
    """Builds run as their own account: on newer projects the default one may not build."""
    return Step(
        f"Grant the build service account {BUILD_ROLE}",
        (
            _g(
                s,
                "projects add-iam-policy-binding",
                s.project,
                f"--member=serviceAccount:{s.build_account}",
                f"--role={BUILD_ROLE}",
                "--condition=None",
            ),
        ),
    )


def _push_token_grant(s: DeploySettings) -> Step:
    """Pub/Sub's agent mints the events account's tokens for authenticated push (Eventarc).

    Projects created before April 2021 do not grant it that; granting it on the one account it
    signs as is narrower than the project-wide grant and harmless where it is already implied.
    """
    return Step(
        f"Let Pub/Sub's service agent sign pushes as {EVENTS_ACCOUNT}",
        (
            _g(
                s,
                "iam service-accounts add-iam-policy-binding",
                s.events_account,
                f"--member=serviceAccount:{s.pubsub_agent}",
                "--role=roles/iam.serviceAccountTokenCreator",
            ),
        ),
    )


def _log_retention(s: DeploySettings) -> Step:
    return Step(
        f"Keep logs {s.log_retention_days} days (the {LOG_BUCKET} bucket the functions write to)",
        (
            _g(
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
            (_g(s, "functions deploy", *args),),
        )
    # Only Eventarc, pushing Pub/Sub messages as the events account, may call it. --retry:
    # a failed run is redelivered, which the refresh services make harmless.
    args += [
        f"--trigger-topic={spec.trigger}", "--no-allow-unauthenticated",
        "--ingress-settings=internal-only", f"--trigger-service-account={s.events_account}",
        "--retry",
    ]  # fmt: skip
    invoker = _g(
        s,
        "functions add-invoker-policy-binding",
        spec.name,
        f"--region={s.region}",
        f"--member=serviceAccount:{s.events_account}",
    )
    return Step(
        f"Function {spec.name} (Pub/Sub topic {spec.trigger}, private)",
        (_g(s, "functions deploy", *args), invoker),
    )


def _env_arg(env: Mapping[str, str]) -> str:
    """KEY=VALUE pairs; with gcloud's ``^D^`` delimiter syntax when a value holds a comma."""
    values = "".join(env.values())
    if "," not in values:
        return ",".join(f"{k}={v}" for k, v in env.items())
    delimiter = next(d for d in ";|@#~" if d not in values)
    return f"^{delimiter}^" + delimiter.join(f"{k}={v}" for k, v in env.items())


def _scheduler(s: DeploySettings) -> Step:
    flags = (
        f"--location={s.region}", f"--schedule={s.schedule}",
        # The full path: gcloud resolves a bare topic name before it reads --project, against
        # the default project (or fails when there is none).
        f"--topic=projects/{s.project}/topics/{RUN_TOPIC}",
        "--message-body={}", "--time-zone=Etc/UTC",
    )  # fmt: skip
    return Step(
        f"Cloud Scheduler job {SCHEDULER_JOB}: publishes to {RUN_TOPIC} ({s.schedule})",
        (_g(s, "scheduler jobs create pubsub", SCHEDULER_JOB, *flags),),
        check=_check(s, "scheduler jobs describe", SCHEDULER_JOB, f"--location={s.region}"),
        otherwise=(_g(s, "scheduler jobs update pubsub", SCHEDULER_JOB, *flags),),
    )


def _ttl(s: DeploySettings) -> list[Step]:
    """Also declared in firestore.indexes.json; checked first, so a second run changes nothing."""
    return [
        Step(
            f"TTL policy: {group}.{TTL_FIELD}",
            (
                _g(
                    s,
                    "firestore fields ttls update",
                    TTL_FIELD,
                    f"--collection-group={group}",
                    "--enable-ttl",
                    "--async",
                ),
            ),
            check=_check(
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
