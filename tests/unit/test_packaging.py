"""The project is an installed package (``pip install -e .``, pyproject.toml's ``[build-system]``):
nothing edits ``sys.path`` to find it, and every benchmark starts as the README runs it, from any
folder."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.stack import ROOT

FOLDERS = ("shared", "functions", "emulator", "deploy", "examples", "bench", "tests", "scripts")
BENCHES = sorted((ROOT / "bench").glob("*.py"))


def edits_sys_path(path: Path) -> list[int]:
    """Lines where ``sys.path`` is assigned, appended to or inserted into."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value  # sys.path.insert(...), sys.path.append(...)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "path"
            and isinstance(target.value, ast.Name)
            and target.value.id == "sys"
        ):
            assert isinstance(node, ast.Call | ast.Assign | ast.AugAssign)  # set target above
            lines.append(node.lineno)
    return sorted(lines)


def test_no_module_edits_sys_path() -> None:
    found = {
        str(path.relative_to(ROOT)): lines
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("*.py")
        if "node_modules" not in path.parts and (lines := edits_sys_path(path))
    }
    assert found == {}


def test_the_check_finds_an_edit(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import sys\nsys.path.insert(0, '.')\nsys.path = []\nsys.path += ['x']\n")
    assert edits_sys_path(sample) == [2, 3, 4]


@pytest.mark.parametrize("bench", BENCHES, ids=[b.stem for b in BENCHES])
def test_each_benchmark_starts_from_another_folder(bench: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(bench), "--help"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
