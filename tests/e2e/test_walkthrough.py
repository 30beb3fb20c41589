"""docs/walkthrough.md and the README's sign-in recipe, run as written against the local stack.

The Python blocks of the walkthrough run in order as one script, and the README's shell recipe
under "Signing in locally" with bash, each in its own process with the stack's environment (as
after ``source .stack/<run>/env``), so the documents cannot go stale.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.launcher import seed_demo_creator
from emulator.stack import DEFAULT_PROJECT, HOST, ROOT, Ports, Stack
from tests.support import AuthEmulator, FakeTikTok, all_documents

pytestmark = pytest.mark.e2e

WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
README = ROOT / "README.md"


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def run(argv: list[str], stack: Stack, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **stack.env(),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_the_walkthrough_runs_as_written(
    devserver: Stack,
    auth_emulator: AuthEmulator,
    fake_tiktok: FakeTikTok,
    tmp_path: Path,
) -> None:
    seed_demo_creator(devserver)  # what scripts/dev does at start
    code = "\n".join(blocks(WALKTHROUGH.read_text(), "python"))
    for step in (
        "accounts:signInWithIdp",
        '"/api/session"',
        '"/api/tiktok/connect"',
        "/v2/auth/authorize/decision",
        '"/api/publish"',
        "/chunks/",
        "/status",
        '"/api/posts"',
        '"/api/me/export"',
        'delete("/api/me")',
    ):
        assert step in code, f"the walkthrough lost its step {step}"
    script = tmp_path / "walkthrough.py"
    script.write_text(code)

    done = run([sys.executable, str(script)], devserver, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PUBLISH_COMPLETE" in done.stdout
    # The account deletion at the end left nothing of the user behind.
    assert "walkthrough@example.com" not in str(all_documents(devserver))


def test_the_readme_sign_in_recipe_runs_as_written(
    devserver: Stack, auth_emulator: AuthEmulator, tmp_path: Path
) -> None:
    recipe = blocks(section(README.read_text(), "Signing in locally"), "sh")
    assert len(recipe) == 1
    script = tmp_path / "sign-in.sh"
    script.write_text("set -euo pipefail\n" + recipe[0])

    done = run(["bash", str(script)], devserver, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert '"email": "ann@example.com"' in done.stdout or '"email":"ann@example.com"' in done.stdout


def test_the_readme_sdk_settings_are_the_stacks() -> None:
    """The JS SDK snippet names the stack's project id and its Auth emulator's address."""
    (snippet,) = blocks(section(README.read_text(), "Signing in locally"), "js")
    ports = Ports.from_firebase_json()
    assert f'projectId: "{DEFAULT_PROJECT}"' in snippet
    # The SDK asserts apiKey and authDomain before it opens a sign-in popup, emulator or not.
    assert 'apiKey: "' in snippet
    assert 'authDomain: "' in snippet
    assert f'connectAuthEmulator(auth, "http://{HOST}:{ports.auth}"' in snippet
    assert snippet.index("getAuth(app)") < snippet.index("connectAuthEmulator(")
    assert snippet.index("connectAuthEmulator(") < snippet.index("signInWithPopup(auth")
    assert '"/api/session"' in snippet
