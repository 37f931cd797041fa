"""The public API is one list: ``__all__``, the lazy export table and the typing imports agree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import csdomain


INIT = Path(csdomain.__file__)


def _type_checking_imports() -> dict[str, str]:
    """``name -> module`` of the imports under ``if TYPE_CHECKING:`` in the package root."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.dump(statement)
                for alias in statement.names:
                    found[alias.asname or alias.name] = str(statement.module)
    return found


def test_all_lists_exactly_the_lazy_exports() -> None:
    exports = csdomain._EXPORTS
    assert set(csdomain.__all__) - {"__version__"} == set(exports)
    assert len(csdomain.__all__) == len(set(csdomain.__all__)), "a name is listed twice"


def test_typing_imports_name_the_same_modules_as_the_lazy_exports() -> None:
    assert _type_checking_imports() == csdomain._EXPORTS


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    for name, module in csdomain._EXPORTS.items():
        assert getattr(csdomain, name) is getattr(importlib.import_module(module), name), name
