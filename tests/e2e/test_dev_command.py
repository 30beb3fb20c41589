"""``scripts/dev`` (emulator.launcher) beside a stack that already runs on its ports."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys

import pytest

from emulator.stack import ROOT, Stack
from tests.support import FakeTikTok

pytestmark = pytest.mark.e2e


def run_launcher(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator.launcher", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def env_files() -> set[str]:
    return {str(path) for path in (ROOT / ".stack").glob("*/env")}


def test_second_stack_on_taken_ports_refuses_and_changes_nothing(
    devserver: Stack, fake_tiktok: FakeTikTok
) -> None:
    fake_tiktok.create_user(display_name="Demo Creator", username="demo.creator")
    before = env_files()
    # The running stack's ports, one flag each.
    flags = [f"--port={name}={port}" for name, port in dataclasses.asdict(devserver.ports).items()]

    second = run_launcher(*flags)

    assert second.returncode == 2, second.stdout + second.stderr
    assert "Local stack is up" not in second.stdout
    message = second.stderr
    assert "ports already in use" in message
    for name in ("firestore", "auth", "kms", "tiktok", "functions"):
        assert f"{getattr(devserver.ports, name)} ({name})" in message
    # Pub/Sub runs only once a test has needed it; a free port is not named.
    pubsub = devserver.ports.pubsub
    assert (f"{pubsub} (pubsub)" in message) == listening(pubsub)
    assert "--free-ports" in message
    users = fake_tiktok.control("GET", "users")["users"]
    assert [u["username"] for u in users] == ["demo.creator"]
    assert env_files() == before
    # The first stack still answers, with its own fake TikTok.
    assert fake_tiktok.control("GET", "health") == {"ok": True}


def test_bad_port_flag_is_named() -> None:
    refused = run_launcher("--port", "tiktk=5012")
    assert refused.returncode == 2
    assert "expected NAME=PORT" in refused.stderr
    assert "tiktk=5012" in refused.stderr
