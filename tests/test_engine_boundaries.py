"""The shape of the package: only the Whoosh implementation imports whoosh, only the OpenSearch one
opensearchpy, and neither imports the other; code outside
searchsvc/engine/ knows only the engine interface and its factory; no import cycles; small modules.
Read from the source (every import, at module level or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "searchsvc"
WHOOSH_ENGINE = "searchsvc.engine.whoosh_engine"
OPENSEARCH_ENGINE = "searchsvc.engine.opensearch_engine"
ENGINE_PACKAGES = (WHOOSH_ENGINE, OPENSEARCH_ENGINE)
ENGINE_PUBLIC = {"searchsvc.engine", "searchsvc.engine.interface"}
# modules that are mostly data (the OpenAPI description), allowed past the size limit
MAX_LINES = 320
LONG_DATA_MODULES = {"searchsvc.web.openapi"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (a ``from package import name`` naming a submodule counts as
    importing the submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES)
    return found


def test_only_the_whoosh_implementation_imports_whoosh():
    importers = sorted(
        name
        for name, path in MODULES.items()
        if any(m == "whoosh" or m.startswith("whoosh.") for m in imports_of(path))
        and not name.startswith(WHOOSH_ENGINE)
    )
    assert importers == []


def test_only_the_opensearch_implementation_imports_the_opensearch_client():
    importers = sorted(
        name
        for name, path in MODULES.items()
        if any(m == "opensearchpy" or m.startswith("opensearchpy.") for m in imports_of(path))
        and not name.startswith(OPENSEARCH_ENGINE)
    )
    assert importers == []


def test_neither_engine_imports_the_other():
    crossing = sorted(
        (name, imported)
        for name, path in MODULES.items()
        for own, other in ((WHOOSH_ENGINE, OPENSEARCH_ENGINE), (OPENSEARCH_ENGINE, WHOOSH_ENGINE))
        if name.startswith(own)
        for imported in imports_of(path)
        if imported.startswith(other)
    )
    assert crossing == []


def test_code_outside_the_engine_package_imports_only_the_interface_and_the_factory():
    reaching_in = sorted(
        (name, imported)
        for name, path in MODULES.items()
        if not name.startswith("searchsvc.engine")
        for imported in imports_of(path)
        if imported.startswith("searchsvc.engine") and imported not in ENGINE_PUBLIC
    )
    assert reaching_in == []


def test_the_engine_neutral_modules_of_the_engine_package_do_not_import_an_engine():
    neutral = [n for n in MODULES if n.startswith("searchsvc.engine.") and not n.startswith(ENGINE_PACKAGES)]
    assert sorted(neutral) == ["searchsvc.engine.interface", "searchsvc.engine.limits", "searchsvc.engine.ranking"]
    assert [(n, m) for n in neutral for m in imports_of(MODULES[n]) if m.startswith(ENGINE_PACKAGES)] == []


# engine-neutral modules outside searchsvc/engine/ that every engine builds on
SHARED_NEUTRAL = [
    "searchsvc.analysis",
    "searchsvc.query_language",
    "searchsvc.query_nodes",
    "searchsvc.query_syntax",
    "searchsvc.query_terms",
]


def test_the_shared_analysis_and_query_language_modules_import_no_engine():
    assert [
        (n, m)
        for n in SHARED_NEUTRAL
        for m in imports_of(MODULES[n])
        if m.startswith("searchsvc.engine") or m == "whoosh" or m.startswith("whoosh.")
    ] == []


def test_there_are_no_import_cycles_between_modules():
    graph = {name: {m for m in imports_of(path) if m in MODULES and m != name} for name, path in MODULES.items()}
    # a package's __init__ runs before its submodules: an edge into a package from its own
    # submodule is not a cycle Python trips on, and the factory imports engines lazily
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    cycles = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("name", sorted(set(MODULES) - LONG_DATA_MODULES))
def test_every_module_stays_small(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it (at most {MAX_LINES})"
