"""The rules page (docs/rules.md) names every rule code in the source, and only real code."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from csdomain.auth import Permission
from csdomain.warranty import BUILTIN_RULE_CODES


ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
SOURCES = sorted((ROOT / "src").rglob("*.py"))

_RULE_VIOLATION = re.compile(r"RuleViolation\(\s*\"([a-z][a-z0-9_]*)\"")
_REASON = re.compile(r"Reason\.(?:excludes|grants|limits|note)\(\s*\"([a-z][a-z0-9_]*)\"")
_DELIVERY_REASON = re.compile(r"reasons\.append\(\"([a-z][a-z0-9_]*)\"\)")
_TICKED = re.compile(r"`([A-Za-z_][A-Za-z0-9_.]*)`")


def _area(name: str) -> list[Path]:
    """The source files of an area, whether it is one module or a package."""
    base = ROOT / "src" / "csdomain"
    module = base / f"{name}.py"
    return [module] if module.exists() else sorted((base / name).rglob("*.py"))


def _codes(pattern: re.Pattern[str], paths: list[Path]) -> set[str]:
    return {code for p in paths for code in pattern.findall(p.read_text(encoding="utf-8"))}


def _on_page(code: str) -> bool:
    return f"`{code}`" in PAGE


def test_every_rule_violation_code_in_the_source_is_on_the_rules_page() -> None:
    codes = _codes(_RULE_VIOLATION, SOURCES)
    assert len(codes) >= 30
    assert sorted(c for c in codes if not _on_page(c)) == []


def test_every_warranty_reason_code_is_on_the_rules_page() -> None:
    codes = _codes(_REASON, _area("warranty")) | set(BUILTIN_RULE_CODES)
    assert {"period_expired", "within_return_window", "no_remedy"} <= codes
    assert sorted(c for c in codes if not _on_page(c)) == []


def test_every_delivery_problem_reason_is_on_the_rules_page() -> None:
    codes = _codes(_DELIVERY_REASON, _area("orders"))
    assert "damaged_bags_over_limit" in codes
    assert sorted(c for c in codes if not _on_page(c)) == []


def test_every_permission_is_on_the_rules_page() -> None:
    names = [v for k, v in vars(Permission).items() if k.isupper()]
    assert len(names) >= 20
    assert sorted(n for n in names if not _on_page(n)) == []


def _resolve(dotted: str) -> object:
    """Import the longest module prefix of ``csdomain.<dotted>``, then walk attributes."""
    parts = f"csdomain.{dotted}".split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise LookupError(dotted)


def _code_references() -> list[str]:
    """Backticked ``module.name`` references whose first part is a csdomain module."""
    base = ROOT / "src" / "csdomain"
    modules = {p.stem for p in base.glob("*.py")} | {
        p.parent.name for p in base.glob("*/__init__.py")
    }
    permissions = {v for k, v in vars(Permission).items() if k.isupper()}
    return sorted(
        {
            t
            for t in _TICKED.findall(PAGE)
            if "." in t and t.split(".")[0] in modules and t not in permissions
        }
    )


def test_the_rules_page_names_code_in_many_modules() -> None:
    assert {r.split(".")[0] for r in _code_references()} >= {
        "orders",
        "returns",
        "complaints",
        "warranty",
        "satisfaction",
        "notify",
        "desk",
    }


@pytest.mark.parametrize("reference", _code_references())
def test_every_code_reference_on_the_rules_page_exists(reference: str) -> None:
    assert _resolve(reference) is not None
