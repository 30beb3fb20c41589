"""The deploy source is self-contained: built exactly as ``scripts/deploy --apply`` uploads it,
with only its ``requirements.txt`` installed into a clean virtualenv, every entry point imports
and functions-framework serves it with the signature the deploy table gives its trigger.

Needs PyPI (pip's cache makes a second run quick); no emulators.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from deploy.source import build_source, uploaded_files
from deploy.table import FUNCTIONS, SOURCE_PACKAGES

ROOT = Path(__file__).resolve().parents[2]
DEMO_ENV = {
    "GOOGLE_CLOUD_PROJECT": "demo-deploy",
    "APP_ORIGIN": "https://app.example.com",
    "SESSION_SECRETS": "k1:" + "d" * 40,
    "TIKTOK_CLIENT_KEY": "deploy-client-key",
    "TIKTOK_CLIENT_SECRET": "deploy-client-secret",
    "TIKTOK_REDIRECT_URI": "https://app.example.com/api/tiktok/callback",
    "KMS_KEY_NAME": "projects/demo-deploy/locations/global/keyRings/r/cryptoKeys/k",
}
# Runs inside the clean virtualenv, in the built source, loading each function the way Cloud
# Functions does: the signature type comes from the trigger (FUNCTION_SIGNATURE_TYPE), unless the
# function's decorator registered one.
PROBE = """
import importlib.util, json, os, sys
import functions_framework
from functions_framework import _function_registry
import main
signatures = json.loads(sys.argv[1])
report = {"stray": [m for m in ("emulator", "tests", "bench", "deploy")
                    if importlib.util.find_spec(m) is not None],
          "exports": list(main.__all__), "registered": {}}
for name, signature in signatures.items():
    os.environ["FUNCTION_SIGNATURE_TYPE"] = signature
    functions_framework.create_app(target=name, source="main.py")
    report["registered"][name] = _function_registry.REGISTRY_MAP.get(name, signature)
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("deploy") / "source")


@pytest.fixture(scope="module")
def venv_python(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the source's requirements.txt installed, and nothing else."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", "requirements.txt"],
        cwd=source, check=True, timeout=600,
    )  # fmt: skip
    return python


def test_source_holds_only_what_cloud_functions_needs(source: Path) -> None:
    expected = {"main.py", "requirements.txt"}
    for package in SOURCE_PACKAGES:
        expected |= {
            p.relative_to(ROOT).as_posix()
            for p in (ROOT / package).rglob("*.py")
            if "__pycache__" not in p.parts
        }
    assert set(uploaded_files(source)) == expected
    assert (source / ".gcloudignore").exists()


def test_every_entry_point_imports_from_the_clean_virtualenv(
    source: Path, venv_python: Path
) -> None:
    signatures = {
        spec.name: "http" if spec.is_http else "cloudevent"
        for spec in FUNCTIONS
        if spec.name in main.__all__
    }
    env = {**DEMO_ENV, "PATH": os.environ["PATH"], "HOME": str(source)}
    result = subprocess.run(
        [str(venv_python), "-E", "-s", "-c", PROBE, json.dumps(signatures)],
        cwd=source, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["stray"] == []
    assert sorted(report["exports"]) == sorted(main.__all__) == sorted(signatures)
    # A decorator that registered another signature than the trigger's would fail in the cloud.
    assert report["registered"] == signatures
