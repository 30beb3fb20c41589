"""Drive a running fake KMS from tests and benchmarks: start it, read counters, inject faults."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import grpc

from emulator.kms.server import CONTROL_SERVICE
from emulator.procs import Child, free_port, tcp_probe

ROOT = Path(__file__).resolve().parent.parent.parent


def start(log_dir: Path, *, host: str = "127.0.0.1") -> tuple[Child, str]:
    """Start the fake as a real process on a free port; return it and its ``host:port``."""
    port = free_port(host)
    child = Child(
        "kms",
        [sys.executable, "-m", "emulator.kms", "--host", host, "--port", str(port)],
        log_dir=log_dir,
        cwd=ROOT,
    )
    try:
        child.wait_ready(tcp_probe(host, port), timeout=30)
    except BaseException:
        child.stop()
        raise
    return child, f"{host}:{port}"


class KmsControl:
    """A client of the fake's control service (JSON over unary gRPC on the same port)."""

    def __init__(self, target: str) -> None:
        self._channel = grpc.insecure_channel(target)

    def _call(self, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        stub = self._channel.unary_unary(f"/{CONTROL_SERVICE}/{method}")
        raw: bytes = stub(json.dumps(body or {}).encode(), timeout=5)
        result: dict[str, Any] = json.loads(raw)
        return result

    def calls(self) -> dict[str, int]:
        """Calls received per KeyManagementService method since the last reset."""
        calls: dict[str, int] = self._call("Stats")["calls"]
        return calls

    def total_calls(self) -> int:
        return sum(self.calls().values())

    def reset(self) -> None:
        """Zero the counters and clear every injected fault (keys are kept)."""
        self._call("Reset")

    def refuse(self, refusing: bool = True) -> None:
        """Make every KMS call fail with UNAVAILABLE (or stop doing so)."""
        self._call("Configure", {"unavailable": refusing})

    def corrupt_checksums(self, count: int) -> None:
        """The next ``count`` Encrypt/Decrypt responses carry a wrong CRC32C."""
        self._call("Configure", {"corrupt_checksums": count})

    def drop_verified(self, count: int) -> None:
        """The next ``count`` Encrypt responses claim the request checksums were not verified."""
        self._call("Configure", {"drop_verified": count})

    def close(self) -> None:
        self._channel.close()
