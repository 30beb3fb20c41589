"""P15: no token, code, secret, cookie or upload URL used by the run reaches any log line.

Runs after every other test. The secrets are the ones this run really used: every access
token, refresh token, authorization code, upload token and OAuth state the fake TikTok issued or
received (its ledger), the TikTok client secret and the session key. The logs are every line the
functions, the fake KMS and this process's in-process services wrote during the whole run.
"""

from __future__ import annotations

import re

import pytest

from emulator.stack import Stack
from tests.conftest import LEDGER

pytestmark = [pytest.mark.e2e, pytest.mark.after_everything]

# A session cookie or ID token is a JWT: none may be logged, whoever issued it.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")
BACKEND_LOGS = ("functions.log", "kms.log", "tests.log")


def test_no_secret_the_run_used_appears_in_any_log_line(devserver: Stack) -> None:
    ledger = (devserver.workdir / LEDGER).read_text().splitlines()
    secrets = {s for s in ledger if len(s) >= 8}
    secrets |= {devserver.tiktok_client_secret, devserver.session_secret}
    assert len(secrets) > 20, "the run should have used many secrets; is the ledger written?"
    assert any(s.startswith("act.") for s in secrets)
    assert any(s.startswith("rft.") for s in secrets)

    lines = 0
    leaks: list[str] = []
    for name in BACKEND_LOGS:
        text = (devserver.workdir / "logs" / name).read_text(errors="replace")
        lines += text.count("\n")
        leaks += [f"{name}: a JWT" for _ in JWT.finditer(text)][:3]
        leaks += [f"{name}: {secret[:6]}..." for secret in secrets if secret in text]
    assert lines > 100, "the run should have logged; are the logs captured?"
    assert leaks == []
