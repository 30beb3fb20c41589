"""A record of every secret the fake hands out or is handed, for the log-scan test (promise P15).

When ``FAKE_TIKTOK_SECRET_LEDGER`` names a file, each access token, refresh token, authorization
code, upload token and OAuth state is appended to it, one per line. The test suite then checks
that none of them appears in any log line of the run. Nothing is recorded when it is unset.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()


def record(*values: str | None) -> None:
    path = os.environ.get("FAKE_TIKTOK_SECRET_LEDGER")
    if not path:
        return
    with _lock, open(path, "a", encoding="utf-8") as ledger:
        for value in values:
            if value:
                ledger.write(value.replace("\n", " ") + "\n")
