"""The plugin-author guide's backend, built from the code of docs/plugin-authors.md.

The guide shows a whole from-scratch backend (``jsonstore:PATH``) in the ```python blocks
of its section "A backend from scratch"; :func:`load` runs exactly those blocks as a
module, so the code a plugin author reads is the code the kit and the mutants run.
"""

from __future__ import annotations

import re
import types
from pathlib import Path


__all__ = ["GUIDE", "SECTION", "load", "section_code"]

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugin-authors.md"
SECTION = "### A backend from scratch"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
_HEADING = re.compile(r"^#{1,3} ", re.MULTILINE)


def section_code(text: str) -> str:
    """The python blocks of the guide's backend section, joined in order."""
    start = text.index(SECTION) + len(SECTION)
    end = _HEADING.search(text, start)
    blocks = _BLOCK.findall(text[start : end.start() if end else None])
    if not blocks:
        msg = f"{GUIDE.name}: no python blocks under {SECTION!r}"
        raise LookupError(msg)
    return "\n\n".join(blocks)


def load() -> types.ModuleType:
    """The guide's backend as a module named ``jsonstore``."""
    module = types.ModuleType("jsonstore", "The plugin-author guide's backend.")
    module.__file__ = str(GUIDE)
    code = compile(section_code(GUIDE.read_text(encoding="utf-8")), str(GUIDE), "exec")
    exec(code, module.__dict__)  # noqa: S102 - running the project's own guide
    return module
