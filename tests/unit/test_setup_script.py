"""scripts/setup on a copy of the project, with python, npm, java and node replaced by recorders.

The recorders only log their arguments and create what the real tools would leave behind, so the
script's decisions (what to install, what to skip, what it tells the developer) are what is tested.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from emulator.stack import ROOT

BASH = shutil.which("bash") or "/bin/bash"

RECORDER = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
{action}
"""
# `python3 -m venv .venv` makes a venv whose python is itself a recorder.
VENV = """if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi"""
NPM = (
    "mkdir -p node_modules/.bin && cd node_modules && touch .bin/firebase .bin/redocly"
    " .package-lock.json && chmod +x .bin/firebase .bin/redocly"
)
FIREBASE_TOOLS = "npm ci --omit=optional --no-audit --no-fund --loglevel=error"
CONTRACT_TOOLS = "npm ci --no-audit --no-fund --loglevel=error"
# The only other programs the script and the recorders may run; nothing else is on PATH.
UTILITIES = (
    *("sh", "dirname", "basename", "cat", "sha256sum", "cut"),
    *("mkdir", "cp", "touch", "chmod"),
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    (root / "emulator").mkdir()
    for part in ("tools", "web"):
        (root / part).mkdir()
        shutil.copy(ROOT / part / "package-lock.json", root / part / "package-lock.json")
    shutil.copy(ROOT / "scripts" / "setup", root / "scripts" / "setup")
    for name in ("requirements.txt", "requirements-dev.txt", "constraints.txt"):
        shutil.copy(ROOT / name, root / name)
    shutil.copy(ROOT / "emulator" / "package-lock.json", root / "emulator" / "package-lock.json")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in UTILITIES:
        found = shutil.which(name)
        assert found is not None, name
        (tools / name).symlink_to(found)
    log = tmp_path / "calls.log"
    for name, action in (("python3", VENV), ("npm", NPM), ("java", ""), ("node", "")):
        path = tools / name
        path.write_text(RECORDER.format(log=log, action=action))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return root


def env(project: Path) -> dict[str, str]:
    return {"PATH": str(project.parent / "bin"), "HOME": str(project.parent)}


def setup(project: Path) -> tuple[list[str], str]:
    """Run the script; the tool calls it made and what it told the developer."""
    log = project.parent / "calls.log"
    log.unlink(missing_ok=True)
    done = subprocess.run(
        [BASH, "scripts/setup"],
        cwd=project,
        env=env(project),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    return calls, done.stdout + done.stderr


def test_first_run_says_what_it_installs_and_skips_optional_native_modules(project: Path) -> None:
    calls, said = setup(project)

    assert "python3 -m venv .venv" in calls
    pip = [c for c in calls if " pip install " in c]
    assert pip == [
        "python -m pip install --quiet --disable-pip-version-check "
        "-r requirements-dev.txt -c constraints.txt"
    ]
    assert [c for c in calls if c.startswith("npm ")] == [
        CONTRACT_TOOLS,
        FIREBASE_TOOLS,
        CONTRACT_TOOLS,  # web/: the same plain npm ci
    ]
    assert "installing the pinned Python dependencies" in said
    assert "a minute or two" in said
    assert "installing firebase-tools for the Auth emulator" in said
    assert "under a minute" in said
    assert "firebase-tools installed in" in said


def test_second_run_installs_nothing_and_is_quiet(project: Path) -> None:
    setup(project)

    calls, said = setup(project)

    assert [c for c in calls if "pip" in c or c.startswith(("npm", "python3"))] == []
    assert said == ""


def test_changed_inputs_install_again_only_what_they_feed(project: Path) -> None:
    setup(project)
    constraints = project / "constraints.txt"
    constraints.write_text(constraints.read_text() + "# a new pin\n")

    calls, _ = setup(project)
    assert any(" pip install " in c for c in calls)
    assert not any(c.startswith("npm ") for c in calls)

    lock = project / "emulator" / "package-lock.json"
    later = time.time() + 5
    os.utime(lock, (later, later))
    calls, _ = setup(project)
    assert [c for c in calls if c.startswith("npm ")] == [FIREBASE_TOOLS]
    assert not any(" pip install " in c for c in calls)


def test_missing_tool_is_named(project: Path) -> None:
    (project.parent / "bin" / "java").unlink()
    done = subprocess.run(
        [BASH, "scripts/setup"],
        cwd=project,
        env=env(project),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "java is required" in done.stderr
