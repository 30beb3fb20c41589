"""Start the whole local stack: Firestore (with firestore.rules), Auth and Pub/Sub emulators, the
fake Cloud KMS, the fake TikTok, and every function behind one HTTP port.

``scripts/dev`` (:mod:`emulator.launcher`) starts all of it for a developer; tests and benchmarks
build a :class:`Stack` on free ports and start only the parts they need.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from emulator.procs import Child, free_port, http_probe, tcp_probe

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PROJECT = "demo-publisher"
COMPONENTS = ("firestore", "auth", "pubsub", "kms", "gcs", "tiktok", "functions")
# The ports each component listens on (the Auth emulator's CLI also opens a hub and a log port).
COMPONENT_PORTS = {"auth": ("auth", "hub", "logging")}
FIREBASE_BIN = ROOT / "emulator" / "node_modules" / ".bin" / "firebase"


def sdk_root() -> Path:
    """The Google Cloud SDK folder holding the Firestore and Pub/Sub emulator jars."""
    configured = os.environ.get("CLOUDSDK_ROOT_DIR")
    if configured:
        return Path(configured)
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise RuntimeError("gcloud is not on PATH; set CLOUDSDK_ROOT_DIR to the Google Cloud SDK")
    return Path(os.path.realpath(gcloud)).parent.parent


@dataclass
class Ports:
    firestore: int
    auth: int
    pubsub: int
    kms: int
    tiktok: int
    functions: int
    hub: int
    gcs: int
    logging: int

    @classmethod
    def free(cls) -> Ports:
        return cls(**{name: free_port() for name in cls.__dataclass_fields__})

    @classmethod
    def from_firebase_json(cls, path: Path = ROOT / "firebase.json") -> Ports:
        emulators = json.loads(path.read_text())["emulators"]
        return cls(
            firestore=emulators["firestore"]["port"],
            auth=emulators["auth"]["port"],
            pubsub=emulators["pubsub"]["port"],
            functions=emulators["hosting"]["port"],
            kms=emulators["hosting"]["port"] + 11,
            tiktok=emulators["hosting"]["port"] + 12,
            gcs=emulators["hosting"]["port"] + 13,
            hub=free_port(),
            logging=free_port(),
        )


def port_taken(port: int, host: str = HOST) -> bool:
    """True when something already listens on ``host:port`` (a bind there fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers themselves do, so a socket of a stopped server in TIME_WAIT is no clash.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


class PortsInUse(RuntimeError):
    """Some of the ports a stack needs are taken; nothing was started."""

    def __init__(self, taken: list[tuple[str, int]]) -> None:
        self.taken = taken
        listed = ", ".join(f"{port} ({name})" for name, port in taken)
        super().__init__(
            f"ports already in use: {listed}. Another local stack (or another server) is "
            "listening there; stop it, or start this one on free ports with --free-ports."
        )


@dataclass
class Stack:
    """A set of local servers on known ports and the environment that points at them."""

    ports: Ports
    workdir: Path
    project_id: str = DEFAULT_PROJECT
    children: dict[str, Child] = field(default_factory=dict)
    tiktok_client_key: str = "local-client-key"
    tiktok_client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    media_url_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    extra_env: dict[str, str] = field(default_factory=dict)  # Optional settings, e.g. chunk limit.

    @property
    def functions_url(self) -> str:
        return f"http://{HOST}:{self.ports.functions}"

    @property
    def tiktok_url(self) -> str:
        return f"http://{HOST}:{self.ports.tiktok}"

    @property
    def gcs_url(self) -> str:
        return f"http://{HOST}:{self.ports.gcs}"

    @property
    def media_bucket(self) -> str:
        return f"{self.project_id}-media"

    def env(self) -> dict[str, str]:
        """The environment (the README's Configuration table) for code that talks to this stack."""
        return {
            "GOOGLE_CLOUD_PROJECT": self.project_id,
            "APP_ORIGIN": self.functions_url,
            "SESSION_SECRETS": f"local:{self.session_secret}",
            "TIKTOK_CLIENT_KEY": self.tiktok_client_key,
            "TIKTOK_CLIENT_SECRET": self.tiktok_client_secret,
            "TIKTOK_REDIRECT_URI": f"{self.functions_url}/api/tiktok/callback",
            "TIKTOK_API_BASE": self.tiktok_url,
            "TIKTOK_AUTH_URL": f"{self.tiktok_url}/v2/auth/authorize/",
            "KMS_KEY_NAME": (
                f"projects/{self.project_id}/locations/global/keyRings/publisher/cryptoKeys/tokens"
            ),
            "KMS_EMULATOR_HOST": f"{HOST}:{self.ports.kms}",
            "FIRESTORE_EMULATOR_HOST": f"{HOST}:{self.ports.firestore}",
            "FIREBASE_AUTH_EMULATOR_HOST": f"{HOST}:{self.ports.auth}",
            "PUBSUB_EMULATOR_HOST": f"{HOST}:{self.ports.pubsub}",
            "STORAGE_EMULATOR_HOST": self.gcs_url,
            "MEDIA_BUCKET": self.media_bucket,
            "MEDIA_URL_SECRETS": f"local:{self.media_url_secret}",
            **self.extra_env,
        }

    def ports_in_use(self, components: Iterable[str] = COMPONENTS) -> list[tuple[str, int]]:
        """The (name, port) pairs of ``components`` that something already listens on."""
        wanted = set(components)
        return [
            (name, getattr(self.ports, name))
            for component in COMPONENTS
            if component in wanted
            for name in COMPONENT_PORTS.get(component, (component,))
            if port_taken(getattr(self.ports, name))
        ]

    def start(self, components: Iterable[str] = COMPONENTS) -> None:
        """Start the named components (all at once, then wait for each to answer).

        Raises :class:`PortsInUse`, starting nothing, when a port they need is taken: the
        readiness probes would otherwise find the other server and call this stack up.
        """
        # Components already running are kept: starting one twice would orphan the first process.
        wanted = [c for c in COMPONENTS if c in set(components) and c not in self.children]
        taken = self.ports_in_use(wanted)
        if taken:
            raise PortsInUse(taken)
        waits = []
        try:
            for name in wanted:
                waits.append(getattr(self, f"_start_{name}")())
            for wait in waits:
                wait()
            if "pubsub" in wanted:
                from emulator.pubsub import PubSubEmulator

                with PubSubEmulator(self.env()["PUBSUB_EMULATOR_HOST"], self.project_id) as pubsub:
                    pubsub.wire(self.functions_url)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every child by its own PID, newest first."""
        for name in reversed(list(self.children)):
            self.children.pop(name).stop()

    def _spawn(self, name: str, argv: list[str], **kwargs: object) -> Child:
        child = Child(name, argv, log_dir=self.workdir / "logs", **kwargs)  # type: ignore[arg-type]
        self.children[name] = child
        return child

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIREBASE_")}
        env.update(self.env())
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _start_firestore(self) -> object:
        jar = sdk_root() / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar"
        child = self._spawn(
            "firestore",
            [
                "java",
                "-Duser.language=en",
                "-cp",
                str(jar),
                "com.google.cloud.datastore.emulator.firestore.CloudFirestore",
                "start",
                f"--host={HOST}",
                f"--port={self.ports.firestore}",
                f"--rules={ROOT / 'firestore.rules'}",
                f"--project_id={self.project_id}",
            ],
        )
        return lambda: child.wait_ready(http_probe(f"http://{HOST}:{self.ports.firestore}/"))

    def _start_pubsub(self) -> object:
        jar = next((sdk_root() / "platform" / "pubsub-emulator" / "lib").glob("*-all.jar"))
        child = self._spawn(
            "pubsub",
            ["java", "-jar", str(jar), f"--host={HOST}", f"--port={self.ports.pubsub}"],
        )
        return lambda: child.wait_ready(http_probe(f"http://{HOST}:{self.ports.pubsub}/"))

    def _start_auth(self) -> object:
        if not FIREBASE_BIN.exists():
            raise RuntimeError(
                f"{FIREBASE_BIN} is missing: run scripts/setup (npm ci in emulator/) first"
            )
        config_dir = self.workdir / "auth"
        config_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "emulators": {
                "auth": {"host": HOST, "port": self.ports.auth},
                "hub": {"host": HOST, "port": self.ports.hub},
                "logging": {"host": HOST, "port": self.ports.logging},
                "ui": {"enabled": False},
            }
        }
        (config_dir / "firebase.json").write_text(json.dumps(config))
        env = dict(os.environ)
        env.update(NO_UPDATE_NOTIFIER="1", CI="true", FIREBASE_CLI_DISABLE_UPDATE_CHECK="true")
        env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
        child = self._spawn(
            "auth",
            [
                str(FIREBASE_BIN),
                "emulators:start",
                "--only",
                "auth",
                "--project",
                self.project_id,
                "--config",
                str(config_dir / "firebase.json"),
            ],
            env=env,
            cwd=config_dir,
        )
        return lambda: child.wait_ready(http_probe(f"http://{HOST}:{self.ports.auth}/"), 90)

    def _start_kms(self) -> object:
        child = self._spawn(
            "kms",
            [sys.executable, "-m", "emulator.kms", "--host", HOST, "--port", str(self.ports.kms)],
            env=self._child_env(),
            cwd=ROOT,
        )
        return lambda: child.wait_ready(tcp_probe(HOST, self.ports.kms))

    def _start_gcs(self) -> object:
        from emulator import gcs

        child = self._spawn("gcs", gcs.argv(HOST, self.ports.gcs))

        def wait() -> None:
            child.wait_ready(http_probe(f"{self.gcs_url}/storage/v1/b"))
            gcs.create_bucket(self.gcs_url, self.project_id, self.media_bucket)

        return wait

    def _start_tiktok(self) -> object:
        # Only the fake needs the webhook URL: it POSTs TikTok's events to the functions. Its app
        # has the stack's /media/ prefix verified, as an operator does once in TikTok's portal.
        env = {
            **self._child_env(),
            "TIKTOK_WEBHOOK_URL": f"{self.functions_url}/api/webhooks/tiktok",
            "TIKTOK_VERIFIED_URL_PREFIXES": f"{self.functions_url}/media/",
        }
        child = self._spawn(
            "tiktok",
            [
                sys.executable,
                "-m",
                "emulator.tiktok",
                "--host",
                HOST,
                "--port",
                str(self.ports.tiktok),
            ],
            env=env,
            cwd=ROOT,
        )
        return lambda: child.wait_ready(http_probe(f"{self.tiktok_url}/_control/health"))

    def _start_functions(self) -> object:
        child = self._spawn(
            "functions",
            [
                sys.executable,
                "-m",
                "emulator.devserver",
                "--host",
                HOST,
                "--port",
                str(self.ports.functions),
            ],
            env=self._child_env(),
            cwd=ROOT,
        )
        return lambda: child.wait_ready(http_probe(f"{self.functions_url}/_dev/health"))


if __name__ == "__main__":
    from emulator.launcher import main

    raise SystemExit(main())
