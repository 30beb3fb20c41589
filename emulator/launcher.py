"""``scripts/dev``: start the whole local stack for a developer, print where it is, wait for Ctrl-C.

Ports come from ``firebase.json``'s ``emulators`` section (``--free-ports``: any free ones;
``--port NAME=N``: one chosen port). When a port is taken, nothing is started, seeded or
written: the command names the ports in use and exits with status 2, so a second run never
reports another stack's servers as its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from emulator.stack import COMPONENTS, DEFAULT_PROJECT, HOST, ROOT, Ports, PortsInUse, Stack

PORT_NAMES = tuple(f.name for f in dataclasses.fields(Ports))
EXIT_PORTS_IN_USE = 2


def _port_override(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or name not in PORT_NAMES or not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected NAME=PORT with NAME one of {', '.join(PORT_NAMES)}, got {text!r}"
        )
    return name, int(value)


def print_banner(stack: Stack) -> None:
    env = stack.env()
    masked = {"SESSION_SECRETS", "TIKTOK_CLIENT_SECRET", "MEDIA_URL_SECRETS"}
    print(f"\nLocal stack is up (logs in {stack.workdir / 'logs'}).\n")
    print(f"  Web app: {stack.functions_url}/ (open it at {HOST}, not localhost: cookies are")
    print(f"           kept per host name, and TikTok's redirect comes back to {HOST})")
    print(f"  API (every function, routed by firebase.json): {stack.functions_url}/api/")
    print(f"  Firestore emulator:  http://{env['FIRESTORE_EMULATOR_HOST']}")
    print(f"  Auth emulator:       http://{env['FIREBASE_AUTH_EMULATOR_HOST']}")
    print(f"  Pub/Sub emulator:    http://{env['PUBSUB_EMULATOR_HOST']}")
    for name, component, url in (
        ("Fake Cloud KMS", "kms", env["KMS_EMULATOR_HOST"]),
        ("Fake TikTok", "tiktok", stack.tiktok_url),
        ("fake-gcs-server", "gcs", stack.gcs_url),
    ):
        if component in stack.children:
            print(f"  {name + ':':<20} {url}")
    print(f"\nEnvironment (full values in {stack.workdir / 'env'}):")
    for key, value in env.items():
        print(f"  export {key}={'<generated>' if key in masked else value}")
    print("\nCtrl-C stops everything.", flush=True)


def seed_demo_creator(stack: Stack) -> None:
    """A TikTok account on the fake's consent page, so connect works out of the box."""
    import httpx

    httpx.post(
        f"{stack.tiktok_url}/_control/users",
        json={
            "display_name": "Demo Creator",
            "username": "demo.creator",
            "avatar_url": "https://example.com/demo-creator.png",
            "bio_description": "A creator on the local fake TikTok",
        },
        timeout=10,
    ).raise_for_status()


def write_env_file(stack: Stack) -> Path:
    """The run's environment, secrets included, readable by its owner only from the start."""
    path = stack.workdir / "env"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"export {k}={v}\n" for k, v in stack.env().items()))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/dev", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--free-ports", action="store_true", help="use free ports, not firebase.json's"
    )
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        type=_port_override,
        metavar="NAME=PORT",
        help=f"listen on PORT for NAME ({', '.join(PORT_NAMES)}); may be repeated",
    )
    parser.add_argument("--project", default=DEFAULT_PROJECT)
    args = parser.parse_args(argv)

    ports = Ports.free() if args.free_ports else Ports.from_firebase_json()
    for name, port in args.port:
        setattr(ports, name, port)
    workdir = ROOT / ".stack"
    stack = Stack(ports=ports, workdir=workdir, project_id=args.project)
    taken = stack.ports_in_use(COMPONENTS)
    if taken:  # Checked before the run's folder exists, so a refused run leaves nothing behind.
        print(f"scripts/dev: {PortsInUse(taken)}", file=sys.stderr)
        return EXIT_PORTS_IN_USE
    workdir.mkdir(exist_ok=True)
    stack.workdir = Path(tempfile.mkdtemp(dir=workdir))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        try:
            stack.start(COMPONENTS)
        except PortsInUse as exc:  # taken in the moment since the check above
            print(f"scripts/dev: {exc}", file=sys.stderr)
            return EXIT_PORTS_IN_USE
        seed_demo_creator(stack)
        write_env_file(stack)
        print_banner(stack)
        stop.wait()
    finally:
        print("\nStopping...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
