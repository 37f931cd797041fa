"""The policy reference page lists every policy value with its current default."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import attrs

from csdomain.policy import Policy
from csdomain.serialization import from_json, to_json


ROOT = Path(__file__).resolve().parent.parent


def _tool() -> object:
    spec = importlib.util.spec_from_file_location(
        "policy_reference", ROOT / "tools" / "policy_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_policy_reference_page_is_up_to_date() -> None:
    page = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert page == _tool().render()  # type: ignore[attr-defined]


def test_every_policy_value_is_on_the_page() -> None:
    page = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    for section in attrs.fields(Policy):
        value = getattr(Policy(), section.name)
        if attrs.has(type(value)):
            for field in attrs.fields(type(value)):
                if field.init and not field.name.startswith("_"):
                    assert f"`{section.name}.{field.name}`" in page


def test_the_default_policy_round_trips_through_json() -> None:
    assert from_json(Policy, to_json(Policy())) == Policy()
