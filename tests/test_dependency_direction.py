"""The core never imports a database driver, a backend or the CLI: checked, not hoped for."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import csdomain


FORBIDDEN = ("sqlite3", "csdomain_sqlite", "csdomain_memory", "csdomain_postgres", "psycopg")
CORE_MODULES = sorted(
    f"csdomain.{m.name}"
    for m in pkgutil.iter_modules(csdomain.__path__)
    if not m.name.startswith("_") and m.name not in {"cli", "testing"}
)


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
