"""Every machine-readable ``reason`` the code can put in an error (or a status's ``stale_reason``).

Read from the source, not from a list kept by hand: each ``reason=`` (and ``stale_reason=``)
keyword in ``shared/`` and ``functions/`` is resolved to the strings it can take. A literal is
itself; a name is a module constant, a loop variable over a literal or constant tuple, or a
parameter, which is resolved at every call of its function (so ``_bad("media.url", ...)`` with
``reason=f"request.{name}"`` gives ``request.media.url``); an f-string is the product of its
parts. A part that cannot be resolved (a code TikTok sent, a status read from Firestore) stays
``{}`` and the template is returned as is, e.g. ``tiktok.{}``, for the caller to expand.
``x.reason`` passes on a reason already raised elsewhere and yields nothing new.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOLE = "{}"
KEYWORDS = ("reason", "stale_reason")


@dataclass(frozen=True)
class Found:
    keyword: str  # reason or stale_reason
    value: str  # a reason, or a template with {} where the code fills in a runtime value
    where: str  # path:line


class _Code:
    def __init__(self, root: Path) -> None:
        self.files = {
            str(p.relative_to(root)): ast.parse(p.read_text())
            for folder in ("shared", "functions")
            for p in sorted((root / folder).rglob("*.py"))
        }
        self.constants: dict[str, ast.expr] = {}
        self.functions: dict[str, list[ast.FunctionDef]] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        for tree in self.files.values():
            for stmt in tree.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            self.constants.setdefault(target.id, stmt.value)
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
                if isinstance(node, ast.FunctionDef):
                    self.functions.setdefault(node.name, []).append(node)

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def calls(self, name: str) -> Iterator[ast.Call]:
        for tree in self.files.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    func = node.func
                    attr = func.attr if isinstance(func, ast.Attribute) else None
                    if (attr or getattr(func, "id", "")) == name:
                        yield node

    def values(self, expr: ast.expr, depth: int = 0) -> set[str]:
        if depth > 6:
            return {HOLE}
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.JoinedStr):
            parts: list[set[str]] = []
            for value in expr.values:
                if isinstance(value, ast.FormattedValue):
                    parts.append(self.values(value.value, depth + 1))
                else:
                    parts.append(self.values(value, depth + 1))
            return {"".join(p) for p in itertools.product(*parts)}
        if isinstance(expr, ast.Name):
            return self._name(expr, depth)
        if isinstance(expr, ast.Tuple | ast.List | ast.Set):
            return set().union(*(self.values(e, depth + 1) for e in expr.elts))
        return {HOLE}

    def _name(self, expr: ast.Name, depth: int) -> set[str]:
        func = self.enclosing(expr)
        if func is not None:
            loop = self._loop_over(func, expr.id)
            if loop is not None:
                return self.values(loop, depth + 1)
            params = [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
            kwonly = [a.arg for a in func.args.kwonlyargs]
            if expr.id in params or expr.id in kwonly:
                return self._arguments(func.name, expr.id, params, depth)
            if self._assigned_locally(func, expr.id):
                return {HOLE}
        if expr.id in self.constants:
            return self.values(self.constants[expr.id], depth + 1)
        return {HOLE}

    def _loop_over(self, func: ast.FunctionDef, name: str) -> ast.expr | None:
        for node in ast.walk(func):
            if (
                isinstance(node, ast.For | ast.comprehension)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
            ):
                return node.iter
        return None

    def _assigned_locally(self, func: ast.FunctionDef, name: str) -> bool:
        for node in ast.walk(func):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.For | ast.comprehension):
                targets = [node.target]
            for target in targets:
                if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)):
                    return True
        return False

    def _arguments(self, func: str, param: str, params: list[str], depth: int) -> set[str]:
        found: set[str] = set()
        for call in self.calls(func):
            offset = 1 if params and params[0] in ("self", "cls") else 0
            index = params.index(param) - offset if param in params else -1
            args = [k.value for k in call.keywords if k.arg == param]
            if not args and 0 <= index < len(call.args):
                args = [call.args[index]]
            for arg in args:
                found |= self.values(arg, depth + 1)
        return found or {HOLE}


def reasons(root: Path = ROOT) -> list[Found]:
    code = _Code(root)
    found: list[Found] = []
    for path, tree in code.files.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg not in KEYWORDS or keyword.value is None:
                    continue
                value = keyword.value
                if isinstance(value, ast.Attribute) and value.attr == "reason":
                    continue  # passes on a reason raised elsewhere
                if isinstance(value, ast.Constant) and value.value is None:
                    continue
                for text in sorted(code.values(value)):
                    found.append(Found(keyword.arg, text, f"{path}:{node.lineno}"))
    return found
