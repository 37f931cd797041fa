"""Imports run one way, without cycles; the core never imports a driver, a backend or the CLI.

Checked, not hoped for: the tests read every module under ``src/csdomain`` (imports at
module level, inside functions and under ``TYPE_CHECKING`` alike) and build the import graph.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

import csdomain


#: The layers of DESIGN.md 2 and 7, lowest first. A module may import modules of its own
#: layer or of a lower one, never of a higher one. Names are relative to ``csdomain``; the
#: longest name that is the module or one of its packages places it (``store`` places
#: ``csdomain.store.uow``; a row may name a submodule to place it apart from its package),
#: ``""`` is the package root. A module no row places fails the test: place new modules here.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "kernel",
        frozenset(
            {
                "_version",
                "audit",
                "auth",
                "calendar",
                "clock",
                "errors",
                "events",
                "i18n",
                "ids",
                "lifecycle",
                "money",
                "serialization",
                "validators",
            }
        ),
    ),
    (
        "message model (DESIGN.md 7: notify's model sits below the areas, its templates above)",
        frozenset(
            {
                "notify.keys",
                "notify.model",
                "notify.policy",
                "notify.quiet_hours",
                "notify.receivers",
            }
        ),
    ),
    (
        "areas",
        frozenset(
            {
                "care",
                "complaints",
                "customers",
                "fieldservice",
                "kpi",
                "orders",
                "returns",
                "satisfaction",
                "warranty",
            }
        ),
    ),
    (
        "store, notifications, policy and plugins",
        frozenset(
            {
                "hookspecs",
                "kinds",
                "notifiers",
                "notify",
                "plugins",
                "policy",
                "sqlgen",
                "store",
                "transfer",
            }
        ),
    ),
    ("desk", frozenset({"desk", "service"})),
    (
        "entry points and test kit",
        frozenset(
            {
                "__main__",
                "cli",
                "demo",
                "demo_history",
                "report",
                "report_cli",
                "testing",
            }
        ),
    ),
    ("public API", frozenset({""})),
)

#: The bundled backends: plugins of the core, which must never single them out.
BACKENDS = ("csdomain_memory", "csdomain_sqlite", "csdomain_postgres")

PACKAGE_DIR = Path(csdomain.__file__).parent

FORBIDDEN = ("sqlite3", *BACKENDS, "psycopg")
CLI_MODULES = {"cli", "report_cli"}
CORE_MODULES = sorted(
    f"csdomain.{m.name}"
    for m in pkgutil.iter_modules(csdomain.__path__)
    if not m.name.startswith("_") and m.name not in {*CLI_MODULES, "testing"}
)


@attrs.frozen
class Import:
    """One module one import statement loads: from where, on which line, and when it runs."""

    source: str
    target: str
    line: int
    #: ``"module"`` (runs on import), ``"function"`` (runs when the function is called)
    #: or ``"type-checking"`` (only for the type checker).
    when: str

    def describe(self) -> str:
        """``source -> target`` with the line and when the import runs."""
        return f"{self.source} -> {self.target} (line {self.line}, {self.when})"


def _module_files() -> dict[str, Path]:
    """Every module under ``src/csdomain`` by its dotted name (a package by its own)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = ["csdomain", *path.relative_to(PACKAGE_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _module_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The csdomain modules one import statement loads (``from M import name``: ``M.name``
    when that is a module, else ``M``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [name if name in MODULES else base for name in names]
    for name in names:
        if name == "csdomain" or name.startswith("csdomain."):
            yield name


def _imports(module: str) -> list[Import]:
    """Every csdomain import of ``module``, wherever it stands in the file."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, when: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(
                    Import(module, target, child.lineno, when)
                    for target in sorted(set(_targets(child, module)) - {module})
                )
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for part in child.body:
                    visit(ast.Module(body=[part], type_ignores=[]), "type-checking")
                for part in child.orelse:
                    visit(ast.Module(body=[part], type_ignores=[]), when)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, "type-checking" if when == "type-checking" else "function")
            else:
                visit(child, when)

    visit(tree, "module")
    return found


IMPORTS: dict[str, list[Import]] = {module: _imports(module) for module in MODULES}
#: The import graph: every import of a module that exists.
GRAPH: dict[str, list[Import]] = {
    module: [edge for edge in edges if edge.target in MODULES] for module, edges in IMPORTS.items()
}


def _cycles(graph: dict[str, list[Import]]) -> list[list[Import]]:
    """One shortest cycle per group of modules that import each other (Tarjan, then BFS)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.target not in index:
                connect(edge.target)
                low[node] = min(low[node], low[edge.target])
            elif edge.target in on_stack:
                low[node] = min(low[node], index[edge.target])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    cycles: list[list[Import]] = []
    for group in groups:
        start = min(group)
        paths: dict[str, list[Import]] = {start: []}
        queue = [start]
        closing: list[Import] | None = None
        while queue and closing is None:
            node = queue.pop(0)
            for edge in sorted(graph[node], key=lambda e: e.target):
                if edge.target == start:
                    closing = [*paths[node], edge]
                    break
                if edge.target in group and edge.target not in paths:
                    paths[edge.target] = [*paths[node], edge]
                    queue.append(edge.target)
        assert closing is not None
        cycles.append(closing)
    return cycles


def _layer(module: str) -> int | None:
    """The index in :data:`LAYERS` of ``module``'s row, by its longest placed name."""
    parts = module.split(".")[1:]
    for name in [".".join(parts[:length]) for length in range(len(parts), 0, -1)] or [""]:
        for number, (_title, names) in enumerate(LAYERS):
            if name in names:
                return number
    return None


def _names_of_backends(module: str) -> Iterator[str]:
    """Imports of a bundled backend, and strings naming one outside docstrings."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            names = [node.value]
        else:
            continue
        for name in names:
            for backend in BACKENDS:
                if backend in name:
                    yield f"{module} line {node.lineno}: {name!r} names {backend}"


def test_domain_modules_import_no_driver_backend_or_cli() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE_MODULES)
        + f"bad = [m for m in {FORBIDDEN!r} + ('csdomain.cli', 'hypothesis', 'pytest') "
        "if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    assert "csdomain.store" in CORE_MODULES


def test_the_scan_sees_imports_at_module_level_in_functions_and_for_the_type_checker() -> None:
    seen = {(i.target, i.when) for i in GRAPH["csdomain.cli.report"]}
    assert ("csdomain.cli._common", "module") in seen
    assert ("csdomain.report", "function") in seen
    assert ("csdomain.report", "type-checking") in seen
    assert len(MODULES) > 50


def test_every_import_names_a_module_that_exists() -> None:
    missing = [
        edge.describe()
        for edges in IMPORTS.values()
        for edge in edges
        if edge.target not in MODULES
    ]
    assert not missing, "imports of modules that do not exist:\n  " + "\n  ".join(missing)


def test_modules_import_each_other_in_no_cycle() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(
        "  " + " => ".join(edge.describe() for edge in cycle) for cycle in cycles
    )


def test_a_cycle_is_reported_with_the_imports_that_close_it() -> None:
    graph = {
        "a": [Import("a", "b", 1, "module")],
        "b": [Import("b", "c", 2, "function")],
        "c": [Import("c", "a", 3, "type-checking"), Import("c", "d", 4, "module")],
        "d": [],
    }
    (cycle,) = _cycles(graph)
    assert [edge.source for edge in cycle] == ["a", "b", "c"]
    assert cycle[-1].describe() == "c -> a (line 3, type-checking)"


def test_every_module_is_placed_in_a_layer() -> None:
    unplaced = sorted(module for module in MODULES if _layer(module) is None)
    assert not unplaced, f"modules no row of LAYERS places: {unplaced}"


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{edge.describe()}: {LAYERS[source][0]} imports {LAYERS[target][0]}"
        for module, edges in sorted(GRAPH.items())
        for edge in edges
        if (source := _layer(module)) is not None
        and (target := _layer(edge.target)) is not None
        and target > source
    ]
    assert not upward, "imports against the layers:\n  " + "\n  ".join(upward)


def test_the_core_never_names_a_bundled_backend() -> None:
    core = [
        m for m in MODULES if not (m == "csdomain.testing" or m.startswith("csdomain.testing."))
    ]
    found = [line for module in sorted(core) for line in _names_of_backends(module)]
    assert not found, "the core singles out a bundled backend:\n  " + "\n  ".join(found)


def test_a_module_is_placed_by_its_longest_placed_name() -> None:
    assert _layer("csdomain.store.uow") == _layer("csdomain.store") == 3
    assert _layer("csdomain.notify.model") == 1
    assert _layer("csdomain.notify.templates") == _layer("csdomain.notify") == 3
    assert _layer("csdomain.cli.report") == _layer("csdomain.report") == 5
    assert _layer("csdomain") == len(LAYERS) - 1
    assert _layer("csdomain.nowhere") is None
