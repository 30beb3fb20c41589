"""Retention: every collection group the code writes with ``expire_at`` has a TTL policy, declared
both in the deploy script and in ``firestore.indexes.json`` (which ``firebase deploy`` applies).

The writers are found by reading ``shared/``: a function that builds a dict (or assigns an item)
with the key ``"expire_at"`` is attributed to the collection groups it reaches, directly
(``.collection(A, id, B)`` -> ``B``; a path helper's ``f"{A}/{id}/{B}/{id}"`` -> ``B``) or through
the functions it calls, by name (``posts.create_draft(...)`` -> what ``create_draft`` opens).
At least one of those groups must have a TTL policy.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.table import TTL_COLLECTION_GROUPS, TTL_FIELD

ROOT = Path(__file__).resolve().parents[2]
COLLECTION_ID = re.compile(r"[a-z][a-z_]*")
# Names of Firestore and dict methods: a call to them says nothing about which store is called.
GENERIC_CALLS = frozenset(
    {"get", "set", "update", "create", "delete", "document", "collection", "to_dict", "items",
     "keys", "values", "pop", "setdefault", "where", "order_by", "stream", "limit", "transaction"}
)  # fmt: skip
FIREBASE_TOOLS = ROOT / "emulator" / "node_modules" / "firebase-tools"


@dataclass(frozen=True)
class Writer:
    where: str  # module:function
    groups: frozenset[str]


def _modules() -> dict[str, ast.Module]:
    return {
        p.relative_to(ROOT).as_posix(): ast.parse(p.read_text())
        for p in sorted((ROOT / "shared").rglob("*.py"))
    }


def _string_constants(modules: dict[str, ast.Module]) -> dict[str, str]:
    constants: dict[str, str] = {}
    for tree in modules.values():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants.setdefault(target.id, node.value.value)
    return constants


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _direct_groups(func: ast.FunctionDef, constants: dict[str, str]) -> set[str]:
    """Collection groups a function names itself: the last collection id of each path."""
    groups: set[str] = set()
    for node in ast.walk(func):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "collection"
            and node.args
        ):
            last = node.args[-1]
            if isinstance(last, ast.Name) and last.id in constants:
                groups.add(constants[last.id])
            elif isinstance(last, ast.Constant) and isinstance(last.value, str):
                groups.add(last.value)
        if isinstance(node, ast.JoinedStr):  # f"{USERS}/{uid}/{POSTS}/{post_id}"
            named = [
                constants[v.value.id]
                for v in node.values
                if isinstance(v, ast.FormattedValue)
                and isinstance(v.value, ast.Name)
                and v.value.id in constants
                and COLLECTION_ID.fullmatch(constants[v.value.id])
            ]
            if named and "/" in ast.unparse(node):
                groups.add(named[-1])
    return groups


def _called_names(func: ast.FunctionDef) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
            elif isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def _writes_expire_at(func: ast.FunctionDef) -> bool:
    for node in ast.walk(func):
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == TTL_FIELD for k in node.keys
        ):
            return True
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value == TTL_FIELD
        ):
            return True
    return False


def expire_at_writers() -> list[Writer]:
    """Functions that build an ``expire_at`` document and reach Firestore, with their groups.

    A function that reaches no collection, even through what it calls, only formats one for a
    response (``_public_draft``) and is no writer.
    """
    modules = _modules()
    constants = _string_constants(modules)
    reach: dict[str, set[str]] = defaultdict(set)
    calls: dict[str, set[str]] = defaultdict(set)
    for tree in modules.values():
        for func in _functions(tree):
            reach[func.name] |= _direct_groups(func, constants)
            calls[func.name] |= _called_names(func) - GENERIC_CALLS
    changed = True
    while changed:  # what a function reaches through the functions it calls, by name
        changed = False
        for name, called in calls.items():
            before = len(reach[name])
            for other in called & reach.keys():
                reach[name] |= reach[other]
            changed = changed or len(reach[name]) != before
    return [
        Writer(f"{module}:{func.name}", frozenset(reach[func.name]))
        for module, tree in modules.items()
        for func in _functions(tree)
        if _writes_expire_at(func) and reach[func.name]
    ]


def test_the_scan_finds_the_known_expiring_writers() -> None:
    found = set().union(*(w.groups for w in expire_at_writers()))
    assert {"oauth_states", "drafts", "idempotency", "leases"} <= found


def test_every_expire_at_writer_has_a_ttl_policy() -> None:
    for writer in expire_at_writers():
        assert writer.groups, (
            f"{writer.where} writes {TTL_FIELD} to a collection the scan can't tell"
        )
        assert writer.groups & set(TTL_COLLECTION_GROUPS), (
            f"{writer.where} writes {TTL_FIELD} into {sorted(writer.groups)}: add its collection "
            "group to TTL_COLLECTION_GROUPS in deploy/table.py and to firestore.indexes.json"
        )


def test_indexes_file_declares_the_same_ttl_policies() -> None:
    spec = json.loads((ROOT / "firestore.indexes.json").read_text())
    ttl = sorted(
        o["collectionGroup"]
        for o in spec["fieldOverrides"]
        if o["fieldPath"] == TTL_FIELD and o.get("ttl") is True
    )
    assert ttl == sorted(TTL_COLLECTION_GROUPS)


@pytest.mark.skipif(
    shutil.which("node") is None or not FIREBASE_TOOLS.exists(),
    reason="firebase-tools is installed by scripts/setup",
)
def test_firebase_tools_accepts_the_indexes_file() -> None:
    spec_path = json.dumps(str(ROOT / "firestore.indexes.json"))
    script = (
        "const {FirestoreApi} = require('./lib/firestore/api');"
        "const api = new FirestoreApi();"
        f"api.validateSpec(api.upgradeOldSpec(require({spec_path})));"
    )
    node = shutil.which("node")
    assert node is not None
    subprocess.run([node, "-e", script], cwd=FIREBASE_TOOLS, check=True, timeout=60)
