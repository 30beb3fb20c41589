"""docs/architecture.md's import graph is the code's, and no module imports itself in a circle.

The graph is read from the code: every ``import`` of a first-party module in ``shared/``,
``functions/`` and ``main.py``, at any depth of a module (a function-local import is a
dependency too), except those under ``if TYPE_CHECKING:``, which never run; and the modules
``main.py`` imports by name when an entry point is first looked up.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
# Used by almost every module: the diagram leaves out the arrows into them, and says so (their
# own imports of other packages are drawn).
FOUNDATION = {"config", "errors", "logs"}


def _sources() -> Iterator[tuple[str, Path]]:
    yield "main", ROOT / "main.py"
    for path in sorted((ROOT / "functions").glob("*.py")) + sorted((ROOT / "shared").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, top_level_only: bool) -> Iterator[str]:
    """Modules named by the imports that run (``from a import b`` yields ``a.b`` and ``a``)."""
    body = tree.body if isinstance(tree, ast.Module) else []
    stack: list[ast.AST] = list(body) if top_level_only else [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        if top_level_only:
            if isinstance(node, ast.If | ast.Try):
                stack.extend(ast.iter_child_nodes(node))
        else:
            stack.extend(ast.iter_child_nodes(node))


def _component(module: str) -> str | None:
    """The box a module belongs to in the diagram: ``shared.store.posts`` -> ``store``."""
    parts = module.split(".")
    if parts[0] in {"main", "functions"}:
        return parts[0]
    if parts[0] == "shared" and len(parts) > 1:
        return parts[1]
    return None


def _modules() -> dict[str, Path]:
    return dict(_sources())


def _dynamic_imports(tree: ast.AST) -> Iterator[str]:
    """The modules ``main.py`` imports by name on first access (the values of ``_MODULES``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_MODULES" for target in node.targets
        ):
            yield from ast.literal_eval(node.value).values()


def code_graph() -> set[tuple[str, str]]:
    known = _modules()
    edges = set()
    for module, path in known.items():
        source = _component(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dynamic = _dynamic_imports(tree) if module == "main" else iter(())
        for name in [*_imports(tree, top_level_only=False), *dynamic]:
            target = _component(name)
            if name in known and target and source and target != source:
                edges.add((source, target))
    return edges


def doc_graph() -> set[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", text, re.DOTALL)
    assert block, "docs/architecture.md has no mermaid graph"
    return set(re.findall(r"^\s*(\w+) --> (\w+)\s*$", block.group(1), re.MULTILINE))


def test_the_diagram_shows_every_import_between_packages_and_no_other() -> None:
    code = {(a, b) for a, b in code_graph() if b not in FOUNDATION}
    documented = doc_graph()
    assert sorted(code - documented) == [], "imports missing from docs/architecture.md"
    assert sorted(documented - code) == [], "arrows in docs/architecture.md the code lacks"


def test_among_the_foundation_modules_only_errors_is_imported() -> None:
    foundation_edges = {(a, b) for a, b in code_graph() if a in FOUNDATION and b in FOUNDATION}
    assert foundation_edges <= {(name, "errors") for name in FOUNDATION}


def test_no_module_is_part_of_an_import_cycle() -> None:
    known = _modules()
    graph = {
        module: {
            name
            for name in _imports(ast.parse(path.read_text(encoding="utf-8")), top_level_only=True)
            if name in known and name != module
        }
        for module, path in known.items()
    }
    # A package's own __init__ runs before its modules; importing it adds no edge worth following.
    packages = {m for m, p in known.items() if p.name == "__init__.py"}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " -> ".join([*visiting, module])
        visiting.append(module)
        for target in sorted(graph[module] - packages):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
