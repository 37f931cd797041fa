"""Sphinx configuration: the Markdown guide (MyST) plus the API reference (autodoc).

Build with ``nox -s docs`` (``sphinx-build -W --keep-going -b html docs docs/_build/html``):
every warning is an error.
"""

from __future__ import annotations

import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from csdomain._version import __version__  # noqa: E402 - importable through the path above


project = "csdomain"
author = "csdomain developers"
copyright = "csdomain developers"
release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
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

try:
    import furo  # noqa: F401
except ImportError:
    html_theme = "alabaster"
else:
    html_theme = "furo"
html_title = "csdomain"
