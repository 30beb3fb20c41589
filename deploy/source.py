"""The deploy source: exactly what ``gcloud functions deploy --source`` uploads.

Cloud Functions' Python build installs ``requirements.txt`` and imports ``main.py``; so the upload
is ``main.py``, ``requirements.txt`` and the two packages it imports, ``functions/`` and
``shared/``. Tests, the local stack, benchmarks and virtualenvs stay home.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from deploy.table import ROOT, SOURCE_FILES, SOURCE_PACKAGES

# The built directory holds only what should be uploaded; this keeps gcloud from adding its own
# defaults (it would otherwise read a .gitignore) and drops bytecode caches.
GCLOUDIGNORE = """\
# Written by deploy/source.py: this directory holds only what Cloud Functions needs.
.gcloudignore
__pycache__/
*.pyc
"""


def build_source(dest: Path, root: Path = ROOT) -> Path:
    """Copy the upload into ``dest`` (which must be missing or empty) and return it."""
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty; the deploy source is built into a new one")
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_FILES:
        shutil.copy2(root / name, dest / name)
    for package in SOURCE_PACKAGES:
        shutil.copytree(
            root / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    (dest / ".gcloudignore").write_text(GCLOUDIGNORE)
    return dest


def uploaded_files(source: Path) -> list[str]:
    """The paths gcloud uploads from a built source, relative and sorted."""
    return sorted(
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and path.name != ".gcloudignore"
    )
