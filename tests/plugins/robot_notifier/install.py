"""Install the example package for a test the way ``pip install`` would, without pip.

Writes ``csdomain_robot-<version>.dist-info`` (``METADATA`` and the ``entry_points.txt``
made from ``pyproject.toml``'s ``[project.entry-points]``) into a folder and copies the
package beside it; put that folder on ``sys.path`` (or ``PYTHONPATH``) and
``importlib.metadata`` finds the entry point exactly as for an installed distribution.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path


HERE = Path(__file__).resolve().parent


def install(folder: Path) -> Path:
    """Install the example into ``folder``; returns ``folder`` (for ``sys.path``)."""
    project = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name, version = project["name"], project["version"]
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    info.joinpath("METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{key} = {value}" for key, value in entries.items())
    info.joinpath("entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copytree(
        HERE / "csdomain_robot",
        folder / "csdomain_robot",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return folder
