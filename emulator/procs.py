"""Child processes of the local stack: started in their own process group, probed until ready,
stopped by their own PID (never by name)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx


class ChildFailed(RuntimeError):
    """A child exited or did not become ready in time; the message quotes its log."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def http_probe(url: str) -> Callable[[], bool]:
    """A readiness probe: true once ``url`` answers anything over HTTP."""

    def probe() -> bool:
        try:
            httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            return False
        return True

    return probe


def tcp_probe(host: str, port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            return False

    return probe


class Child:
    """One server process with its log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        log_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # Its own process group, whose id is its PID.
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, probe: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ChildFailed(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if probe():
                return
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise ChildFailed(f"{self.name} was not ready after {timeout:.0f}s:\n{self.tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """End the child and its own children: SIGTERM to its process group, then SIGKILL."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
            except ProcessLookupError:
                pass
        else:
            # The leader is gone; members of its group may remain (e.g. a JVM under a CLI).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()
