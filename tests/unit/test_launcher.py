"""What scripts/dev tells the developer: which address to open, where the API is."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.launcher import print_banner
from emulator.stack import Ports, Stack


def test_the_banner_says_to_open_the_app_at_127_0_0_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = Stack(ports=Ports.free(), workdir=tmp_path)

    print_banner(stack)

    shown = capsys.readouterr().out
    assert f"Web app: {stack.functions_url}/ (open it at 127.0.0.1, not localhost" in shown
    assert f"{stack.functions_url}/api/" in shown
    assert stack.session_secret not in shown
    assert stack.tiktok_client_secret not in shown
