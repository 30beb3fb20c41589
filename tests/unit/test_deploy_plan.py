"""The deploy plan: one command per resource, the right trigger and access for each function, and
no secret value anywhere in what the dry run prints."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest

import main
from deploy import cli
from deploy.plan import PlanError, build_plan, deployed_functions
from deploy.runner import render
from deploy.settings import DeploySettings, SettingsError, load
from deploy.table import FUNCTIONS, HTTP, TOPICS, TTL_COLLECTION_GROUPS
from emulator import trigger
from emulator.pubsub import EVENT_FUNCTIONS
from shared.jobs import event_jobs
from shared.tokens import scheduler as refresh_scheduler

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SECRET = "tiktok-client-secret-7f3a9c1e"
SESSION_SECRETS = "k2:" + "S" * 20 + "q9Zx" * 6 + ",k1:" + "T" * 44
DEPLOY_ENV = {
    "GOOGLE_CLOUD_PROJECT": "acme-publisher",
    "APP_ORIGIN": "https://app.acme.example",
    "TIKTOK_CLIENT_KEY": "aw1234client",
    "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
    "SESSION_SECRETS": SESSION_SECRETS,
}
# What docs/architecture.md's table of deployed functions says triggers each function.
DESIGNED_TRIGGERS = {
    "session": HTTP,
    "tiktok_oauth": HTTP,
    "accounts": HTTP,
    "publish_init": HTTP,
    "publish_status": HTTP,
    "media": HTTP,
    "refresh_tokens": "token-refresh",
    "refresh_batch": "token-refresh-batch",
    "sweep_status": "status-sweep",
    "analytics_snapshot": "analytics-snapshot",
    "analytics_snapshot_batch": "analytics-snapshot-batch",
    "publish_scheduled": "publish-due",
    "publish_scheduled_batch": "publish-due-batch",
}
# What Cloud Scheduler starts, and how often.
DESIGNED_SCHEDULES = {
    "token-refresh": "*/10 * * * *",
    "status-sweep": "*/10 * * * *",
    "analytics-snapshot": "30 0 * * *",  # daily, after midnight UTC
    "publish-due": "* * * * *",  # every minute: scheduled posts go out on their minute
}


@pytest.fixture
def settings() -> DeploySettings:
    return load({}, DEPLOY_ENV)


def argvs(settings: DeploySettings) -> list[tuple[str, ...]]:
    return [c.argv for c in build_plan(settings, "/src").commands()]


def find(commands: list[tuple[str, ...]], *prefix: str) -> list[tuple[str, ...]]:
    return [argv for argv in commands if argv[: len(prefix)] == prefix]


def flag(argv: tuple[str, ...], name: str) -> str:
    values = [a.split("=", 1)[1] for a in argv if a.startswith(name + "=")]
    assert len(values) == 1, f"{name} appears {len(values)} times in {argv}"
    return values[0]


def test_plan_has_one_command_per_resource(settings: DeploySettings) -> None:
    commands = argvs(settings)
    key_ring = find(commands, "gcloud", "kms", "keyrings", "create", "tiktok-publisher")
    (key,) = find(commands, "gcloud", "kms", "keys", "create", "token-wrap")
    assert len(key_ring) == 1
    assert flag(key, "--purpose") == "encryption"
    assert flag(key, "--rotation-period") == "90d"
    for secret_id in ("tiktok-client-secret", "session-secrets"):
        assert len(find(commands, "gcloud", "secrets", "create", secret_id)) == 1
        assert len(find(commands, "gcloud", "secrets", "versions", "add", secret_id)) == 1
    for topic in TOPICS:
        assert len(find(commands, "gcloud", "pubsub", "topics", "create", topic)) == 1
    jobs = find(commands, "gcloud", "scheduler", "jobs", "create", "pubsub")
    assert {argv[5]: flag(argv, "--schedule") for argv in jobs} == DESIGNED_SCHEDULES
    for argv in jobs:
        # The full path: gcloud resolves a bare name against the default project, not --project.
        assert flag(argv, "--topic") == f"projects/acme-publisher/topics/{argv[5]}"
    deployed = find(commands, "gcloud", "functions", "deploy")
    assert sorted(argv[3] for argv in deployed) == sorted(main.__all__)
    firebase = [argv[1:4] for argv in find(commands, "firebase")]
    assert firebase == [
        ("deploy", "--only", "firestore:rules,firestore:indexes"),
        ("deploy", "--only", "hosting"),
    ]
    ttl = find(commands, "gcloud", "firestore", "fields", "ttls", "update", "expire_at")
    assert sorted(flag(argv, "--collection-group") for argv in ttl) == sorted(TTL_COLLECTION_GROUPS)
    assert all("--enable-ttl" in argv for argv in ttl)


def test_runtime_account_gets_least_privilege(settings: DeploySettings) -> None:
    commands = argvs(settings)
    member = f"--member=serviceAccount:{settings.runtime_account}"
    grants = sorted(
        (argv[1], flag(argv, "--role"))
        for argv in commands
        if member in argv and "--role" in str(argv)
    )
    assert grants == [
        ("kms", "roles/cloudkms.cryptoKeyEncrypterDecrypter"),
        ("projects", "roles/datastore.user"),
        ("projects", "roles/firebaseauth.admin"),  # users.get (check_revoked) and users.delete
        ("pubsub", "roles/pubsub.publisher"),
        ("pubsub", "roles/pubsub.publisher"),
        ("pubsub", "roles/pubsub.publisher"),
        ("pubsub", "roles/pubsub.publisher"),
        ("secrets", "roles/secretmanager.secretAccessor"),
        ("secrets", "roles/secretmanager.secretAccessor"),
        ("secrets", "roles/secretmanager.secretAccessor"),
        ("storage", "roles/storage.objectAdmin"),  # on the staging bucket only
    ]
    (bucket_grant,) = find(commands, "gcloud", "storage", "buckets", "add-iam-policy-binding")
    assert bucket_grant[4] == f"gs://{settings.media_bucket}"
    publishers = find(commands, "gcloud", "pubsub", "topics", "add-iam-policy-binding")
    # The only topics a function publishes to: the fan-out batches, and the status events.
    assert sorted(p[4] for p in publishers) == [
        "analytics-snapshot-batch",
        "publish-due-batch",
        "publisher-events",
        "token-refresh-batch",
    ]
    for argv in find(commands, "gcloud", "functions", "deploy"):
        assert flag(argv, "--service-account") == settings.runtime_account


def test_apis_cover_every_service_the_functions_and_the_grants_call(
    settings: DeploySettings,
) -> None:
    (enable,) = find(argvs(settings), "gcloud", "services", "enable")
    for api in (
        "identitytoolkit.googleapis.com",  # verify_id_token(check_revoked=True), delete_user
        "iam.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "cloudfunctions.googleapis.com",
        "cloudkms.googleapis.com",
        "secretmanager.googleapis.com",
    ):
        assert api in enable


def test_builds_run_as_their_own_account_with_the_builder_role(settings: DeploySettings) -> None:
    commands = argvs(settings)
    build = f"publisher-build@{settings.project}.iam.gserviceaccount.com"
    assert find(commands, "gcloud", "iam", "service-accounts", "create", "publisher-build")
    (grant,) = [
        argv
        for argv in find(commands, "gcloud", "projects", "add-iam-policy-binding")
        if flag(argv, "--member") == f"serviceAccount:{build}"
    ]
    assert flag(grant, "--role") == "roles/cloudbuild.builds.builder"
    for argv in find(commands, "gcloud", "functions", "deploy"):
        assert flag(argv, "--build-service-account") == (
            f"projects/{settings.project}/serviceAccounts/{build}"
        )


def test_pubsub_agent_may_sign_pushes_as_the_events_account() -> None:
    settings = load({"project_number": "123456789012"}, DEPLOY_ENV)
    (grant,) = find(argvs(settings), "gcloud", "iam", "service-accounts", "add-iam-policy-binding")
    assert grant[4] == settings.events_account
    assert flag(grant, "--member") == (
        "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    )
    assert flag(grant, "--role") == "roles/iam.serviceAccountTokenCreator"
    with pytest.raises(SettingsError, match="project's number"):
        load({"project_number": "acme"}, DEPLOY_ENV)


def test_dry_run_without_the_project_number_says_apply_looks_it_up() -> None:
    out = io.StringIO()
    assert cli.main([], env=DEPLOY_ENV, out=out) == 0
    printed = out.getvalue()
    assert "service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com" in printed
    assert "--apply looks it up with `gcloud projects describe acme-publisher`" in printed


def test_firestore_has_delete_protection_and_point_in_time_recovery(
    settings: DeploySettings,
) -> None:
    (step,) = [s for s in build_plan(settings, "/src").steps if "Firestore database" in s.title]
    (create,) = (c.argv for c in step.commands)
    assert create[1:4] == ("firestore", "databases", "create")
    (update,) = (c.argv for c in step.otherwise)  # an existing database gets them too
    assert update[1:4] == ("firestore", "databases", "update")
    for argv in (create, update):
        assert "--delete-protection" in argv
        assert "--enable-pitr" in argv
        assert flag(argv, "--database") == "(default)"


def test_log_retention_is_set_on_the_bucket_the_functions_write_to() -> None:
    commands = argvs(load({}, DEPLOY_ENV))
    (default,) = find(commands, "gcloud", "logging", "buckets", "update", "_Default")
    assert flag(default, "--retention-days") == "30"
    assert flag(default, "--location") == "global"
    commands = argvs(load({}, {**DEPLOY_ENV, "LOG_RETENTION_DAYS": "14"}))
    (custom,) = find(commands, "gcloud", "logging", "buckets", "update", "_Default")
    assert flag(custom, "--retention-days") == "14"
    for wrong in ("0", "3651", "two weeks"):
        with pytest.raises(SettingsError, match="LOG_RETENTION_DAYS"):
            load({"log_retention_days": wrong}, DEPLOY_ENV)


def test_http_functions_time_out_with_hosting_and_event_functions_within_the_limit(
    settings: DeploySettings,
) -> None:
    for argv in find(argvs(settings), "gcloud", "functions", "deploy"):
        seconds = int(flag(argv, "--timeout").removesuffix("s"))
        if "--trigger-http" in argv:
            assert seconds == 60  # Hosting ends a rewritten request after 60 s anyway
        else:
            assert seconds <= 540  # 2nd gen event-driven functions: at most 9 minutes


def test_every_exported_function_is_deployed_with_its_trigger(settings: DeploySettings) -> None:
    commands = argvs(settings)
    deployed = {argv[3]: argv for argv in find(commands, "gcloud", "functions", "deploy")}
    assert set(deployed) == set(main.__all__)
    for name, argv in deployed.items():
        assert callable(getattr(main, name))
        assert "--gen2" in argv
        assert flag(argv, "--runtime") == "python312"
        assert flag(argv, "--entry-point") == name
        assert flag(argv, "--source") == "/src"
        assert flag(argv, "--region") == "us-central1"  # where firebase.json's rewrites call
        assert int(flag(argv, "--concurrency")) >= 1
        assert flag(argv, "--cpu")  # 2nd gen needs a CPU setting for concurrency above 1
        if DESIGNED_TRIGGERS[name] == HTTP:
            assert "--trigger-http" in argv
            assert "--allow-unauthenticated" in argv  # Firebase Hosting calls it anonymously
        else:
            assert flag(argv, "--trigger-topic") == DESIGNED_TRIGGERS[name]
            assert "--no-allow-unauthenticated" in argv
            assert "--allow-unauthenticated" not in argv
            assert flag(argv, "--ingress-settings") == "internal-only"
            (invoker,) = find(commands, "gcloud", "functions", "add-invoker-policy-binding", name)
            assert flag(invoker, "--member") == f"serviceAccount:{settings.events_account}"
            assert flag(argv, "--trigger-service-account") == settings.events_account


def test_table_matches_the_design_and_the_code() -> None:
    assert {spec.name: spec.trigger for spec in FUNCTIONS} == DESIGNED_TRIGGERS
    assert {refresh_scheduler.RUN_TOPIC, refresh_scheduler.BATCH_TOPIC} <= set(TOPICS)
    assert {spec.name for spec in FUNCTIONS} == set(main.__all__)
    assert {j.function: j.topic for j in event_jobs()} == EVENT_FUNCTIONS
    assert trigger.JOBS == {
        "refresh": "token-refresh",
        "sweep": "status-sweep",
        "analytics": "analytics-snapshot",
        "publish-due": "publish-due",
    }


def test_functions_get_the_environment_and_secrets_by_reference(
    settings: DeploySettings,
) -> None:
    (argv, *_) = find(argvs(settings), "gcloud", "functions", "deploy")
    env = dict(pair.split("=", 1) for pair in flag(argv, "--set-env-vars").split(","))
    assert env == {
        "GOOGLE_CLOUD_PROJECT": "acme-publisher",
        "APP_ORIGIN": "https://app.acme.example",
        "TIKTOK_CLIENT_KEY": "aw1234client",
        "TIKTOK_REDIRECT_URI": "https://app.acme.example/api/tiktok/callback",
        "KMS_KEY_NAME": "projects/acme-publisher/locations/us-central1/keyRings/tiktok-publisher"
        "/cryptoKeys/token-wrap",
        "MEDIA_BUCKET": "acme-publisher-media",
    }
    assert flag(argv, "--set-secrets") == (
        "TIKTOK_CLIENT_SECRET=tiktok-client-secret:latest,SESSION_SECRETS=session-secrets:latest,"
        "MEDIA_URL_SECRETS=media-url-secrets:latest"
    )


def test_values_with_commas_use_gcloud_delimiter_syntax() -> None:
    scopes = "user.info.basic,video.publish"
    settings = load({}, {**DEPLOY_ENV, "TIKTOK_SCOPES": scopes})
    (argv, *_) = find(argvs(settings), "gcloud", "functions", "deploy")
    raw = flag(argv, "--set-env-vars")
    assert raw.startswith("^;^")
    env = dict(pair.split("=", 1) for pair in raw[3:].split(";"))
    assert env["TIKTOK_SCOPES"] == scopes


def test_dry_run_prints_every_command_with_secret_placeholders() -> None:
    out = io.StringIO()
    assert cli.main([], env=DEPLOY_ENV, out=out) == 0
    printed = out.getvalue()
    plan = build_plan(load({}, DEPLOY_ENV), cli.DRY_RUN_SOURCE)
    for command in plan.commands():
        assert render(command) in printed
    for var in ("TIKTOK_CLIENT_SECRET", "SESSION_SECRETS"):
        assert f"< <{var}: secret, read from your environment, not shown>" in printed
    assert CLIENT_SECRET not in printed
    for part in SESSION_SECRETS.replace(":", ",").split(","):
        assert part not in printed


def test_script_never_prints_a_secret_even_from_the_environment(tmp_path: Path) -> None:
    secret_file = tmp_path / "session"
    secret_file.write_text("k9:" + "F" * 48 + "\n")
    env = {**DEPLOY_ENV, "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(ROOT / "scripts" / "deploy"), "--session-secrets-file", str(secret_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert "gcloud functions deploy refresh_batch" in output
    for value in (CLIENT_SECRET, "T" * 44, "q9Zx" * 6, "F" * 48):
        assert value not in output


def test_secrets_are_read_from_a_file_and_piped_on_stdin(tmp_path: Path) -> None:
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("from-a-file-secret\n")
    settings = load({"tiktok_client_secret_file": str(secret_file)}, DEPLOY_ENV)
    secret = settings.secret_value("TIKTOK_CLIENT_SECRET")
    assert secret is not None
    assert secret.reveal() == "from-a-file-secret"
    adds = [
        c
        for c in build_plan(settings, "/src").commands()
        if c.argv[1:4] == ("secrets", "versions", "add")
    ]
    assert [c.stdin_secret for c in adds] == [
        "TIKTOK_CLIENT_SECRET",
        "SESSION_SECRETS",
        "MEDIA_URL_SECRETS",
    ]
    assert all("from-a-file-secret" not in " ".join(c.argv) for c in adds)


def test_missing_settings_are_named_together() -> None:
    with pytest.raises(SettingsError) as caught:
        load({}, {})
    message = str(caught.value)
    for name in ("GOOGLE_CLOUD_PROJECT", "APP_ORIGIN", "TIKTOK_CLIENT_KEY"):
        assert name in message


def test_settings_the_functions_would_refuse_are_refused_before_deploying() -> None:
    with pytest.raises(SettingsError, match="APP_ORIGIN must use https"):
        load({}, {**DEPLOY_ENV, "APP_ORIGIN": "http://app.acme.example"})
    with pytest.raises(SettingsError, match="SESSION_SECRETS entry 1"):
        load({}, {**DEPLOY_ENV, "SESSION_SECRETS": "k1:short"})
    with pytest.raises(SettingsError, match="demo- project"):
        load({}, {**DEPLOY_ENV, "GOOGLE_CLOUD_PROJECT": "demo-local"})
    with pytest.raises(SettingsError, match="differs from the region"):
        load({"region": "europe-west1"}, DEPLOY_ENV)


def test_apply_without_secrets_stops_before_any_command() -> None:
    env = {k: v for k, v in DEPLOY_ENV.items() if k != "SESSION_SECRETS"}
    out = io.StringIO()
    assert cli.main(["--apply"], env=env, out=out) == 2
    assert out.getvalue() == ""


def test_table_and_main_must_agree() -> None:
    with pytest.raises(PlanError, match="no row"):
        deployed_functions(exports=["session", "brand_new"], rewrites=[])
    with pytest.raises(PlanError, match="not HTTP functions"):
        deployed_functions(exports=["refresh_tokens"], rewrites=["refresh_tokens"])
    functions, warnings = deployed_functions(exports=["session"], rewrites=["session"])
    assert [spec.name for spec in functions] == ["session"]
    assert len(warnings) == len(FUNCTIONS) - 1


def test_operations_doc_names_every_ttl_collection_and_the_log_retention() -> None:
    # The deploy's documentation lives in docs/operations.md (the README points there).
    operations = (ROOT / "docs" / "operations.md").read_text()
    deploy_section = operations.split("## Deploy", 1)[1].split("\n## ", 1)[0]
    for group in TTL_COLLECTION_GROUPS:
        assert f"`{group}`" in deploy_section, group
    assert "LOG_RETENTION_DAYS" in deploy_section
    assert "30 days" in deploy_section


def test_the_staging_bucket_is_private_with_cors_and_a_lifecycle_rule(
    settings: DeploySettings,
) -> None:
    import json

    from deploy.media import bucket_files, lifecycle_days

    commands = argvs(settings)
    (create,) = find(commands, "gcloud", "storage", "buckets", "create")
    assert create[4] == "gs://acme-publisher-media"
    for required in ("--uniform-bucket-level-access", "--public-access-prevention"):
        assert required in create
    assert "--soft-delete-duration=0" in create
    files = bucket_files(settings)
    (cors,) = json.loads(files["cors.json"])
    assert cors["origin"] == [settings.app_origin]
    rule = json.loads(files["lifecycle.json"])["rule"][0]
    # A staged video may wait a day for its post, 30 days for its time, 2 more if it never reports.
    assert lifecycle_days(settings) == 1 + 30 + 2 + 1
    assert rule == {"action": {"type": "Delete"}, "condition": {"age": 34}}
    longer = load({}, {**DEPLOY_ENV, "SCHEDULE_MAX_DAYS": "90"})
    assert lifecycle_days(longer) == 94
    assert settings.function_env()["MEDIA_BUCKET"] == "acme-publisher-media"
