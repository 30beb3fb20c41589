"""The generated privacy policy: every number from the code, every claim backed by tests."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from deploy.policy import facts as policy_facts
from deploy.policy.__main__ import TITLE, render
from deploy.policy.facts import Operator, PolicyError, duration, from_deploy, local_stack
from deploy.policy.render import UnprovenStatement, check_proofs, promise_index
from deploy.policy.text import TTL_TEST, sections
from deploy.settings import load
from shared.publishing.drafts import DRAFT_TTL

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "privacy-policy.md"
# The default deployment: only what scripts/deploy requires, every other setting its default.
DEFAULT_DEPLOYMENT = {
    "GOOGLE_CLOUD_PROJECT": "example-project",
    "APP_ORIGIN": "https://app.example.com",
    "TIKTOK_CLIENT_KEY": "example-client-key",
}


def deployment(**env: str) -> policy_facts.Facts:
    settings = load({}, {**DEFAULT_DEPLOYMENT, **env})
    return from_deploy(settings)


def text(facts: policy_facts.Facts) -> str:
    return render(facts, Operator.load(), fmt="md")


def test_the_committed_policy_is_the_render_of_the_default_deployment() -> None:
    assert DOC.read_text() == text(deployment()), (
        "docs/privacy-policy.md is stale: regenerate it with the command at its top"
    )


def test_every_duration_is_the_codes_own_constant() -> None:
    facts = deployment()
    rendered = text(facts)
    assert f"expires after {duration(DRAFT_TTL)}" in rendered
    for record in facts.retention:
        assert f"| {record.what} | {record.kept} |" in rendered
    assert "It lasts at most 14 days." in rendered
    assert "rotated every 90 days" in rendered
    assert "Technical logs are kept for 30 days, then deleted." in rendered


def test_a_changed_setting_changes_the_text() -> None:
    default = text(deployment())
    changed = text(
        deployment(
            SESSION_TTL_SECONDS="86400",
            FIRESTORE_LOCATION="europe-west3",
            KMS_LOCATION="europe-west3",
            TIKTOK_SCOPES="user.info.basic,video.upload",
            LOG_RETENTION_DAYS="7",
        )
    )
    assert "Technical logs are kept for 7 days" in changed
    assert "It lasts at most 1 day." in changed
    assert "Firestore (europe-west3)" in changed
    assert "Key Management Service (europe-west3)" in changed
    assert "| video.upload |" in changed
    assert "| video.publish |" not in changed
    assert "| video.publish |" in default
    assert "Firestore (us-central1)" in default


def test_a_changed_constant_changes_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy_facts, "DRAFT_TTL", timedelta(minutes=45))
    rendered = text(deployment())
    assert "expires after 45 minutes" in rendered
    assert "| Publish requests prepared for you but not confirmed | 45 minutes |" in rendered


def test_the_local_stack_policy_names_the_emulators_and_no_secure_cookie() -> None:
    rendered = text(local_stack())
    assert "the Firestore emulator on this machine" in rendered
    assert "(Secure)" not in rendered
    assert "(Secure)" in text(deployment())


def test_a_scope_without_a_stated_use_cannot_be_rendered() -> None:
    with pytest.raises(PolicyError, match=r"video\.delete"):
        deployment(TIKTOK_SCOPES="user.info.basic,video.delete")


def test_a_statement_whose_promise_has_no_tests_cannot_be_rendered() -> None:
    parts = sections(deployment(), Operator.load())
    index = dict(promise_index())
    del index["P3"]
    with pytest.raises(UnprovenStatement, match="promise P3 has no tests"):
        check_proofs(parts, index)
    index = {**promise_index(), "P3": ["tests.unit.test_vault::test_that_was_never_written"]}
    with pytest.raises(UnprovenStatement, match="test_that_was_never_written does not exist"):
        check_proofs(parts, index)


def test_a_statement_whose_test_did_not_pass_cannot_be_rendered() -> None:
    parts = sections(deployment(), Operator.load())
    index = promise_index()
    everything = {node for tests in index.values() for node in tests}
    check_proofs(parts, index, passed=everything | {TTL_TEST})
    failed = index["P5"][0]
    with pytest.raises(UnprovenStatement, match=f"{failed.split('::')[1]} did not pass"):
        check_proofs(parts, index, passed=(everything | {TTL_TEST}) - {failed})


def test_the_page_is_self_contained_and_escapes_the_operators_text(tmp_path: Path) -> None:
    operator = tmp_path / "operator.toml"
    operator.write_text(
        'company = "A <b>&</b> Co"\ncontact_email = "p@example.com"\n'
        'postal_address = "1 Main St"\ngoverning_law = "the laws of X"\n'
        'effective_date = "2026-12-01"\n'
    )
    page = render(deployment(), Operator.load(operator), fmt="html")
    assert f"<h1>{TITLE}</h1>" in page
    assert "A &lt;b&gt;&amp;&lt;/b&gt; Co" in page
    assert "<script" not in page
    assert "src=" not in page
    assert "@import" not in page


def test_the_command_renders_and_refuses_an_incomplete_operator_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "deploy.policy", "--local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"# {TITLE}")
    incomplete = tmp_path / "operator.toml"
    incomplete.write_text('company = "X"\n')
    done = subprocess.run(
        [sys.executable, "-m", "deploy.policy", "--local", "--operator", str(incomplete)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "lacks contact_email, postal_address, governing_law, effective_date" in done.stderr


def test_a_deploy_refuses_to_publish_a_policy_with_placeholders() -> None:
    from deploy.cli import _render_policy
    from deploy.settings import SettingsError

    with pytest.raises(SettingsError, match="still holds placeholders"):
        _render_policy(load({}, DEFAULT_DEPLOYMENT))
