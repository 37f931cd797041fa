"""Every python example in README.md and docs/*.md runs, top to bottom, per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("**/*.md")])
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a Markdown file."""
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def test_every_document_is_found() -> None:
    assert ROOT / "docs" / "plugin-authors.md" in DOCUMENTS


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if python_blocks(p)], ids=lambda p: p.name)
def test_documented_examples_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for number, block in enumerate(python_blocks(path), start=1):
        code = compile(block, f"{path.name}[block {number}]", "exec", dont_inherit=True)
        exec(code, namespace)  # noqa: S102 - running our own documentation
