"""Sphinx configuration: the Markdown guide (MyST) plus the API reference (autodoc).

Build with ``nox -s docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``):
every warning is an error.
"""

from __future__ import annotations

import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

from csdomain._version import __version__  # noqa: E402 - importable through the path above


project = "csdomain"
author = "csdomain developers"
copyright = "csdomain developers"
release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "csdomain_autodoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
autoclass_content = "class"
# csdomain_autodoc's documenter of long constants is a class-based documenter
autodoc_use_legacy_class_based = True

html_theme = "furo"
html_title = f"csdomain {release}"
