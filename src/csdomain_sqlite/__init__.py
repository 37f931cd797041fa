"""Embedded SQLite storage backend for csdomain (``sqlite:///path.db``), the default.

Registered through the ``csdomain`` entry-point group; applications reach it with
``csdomain.open_store("sqlite:///cs.db")`` and never import this package themselves.
"""

from __future__ import annotations

from csdomain.hookspecs import hookimpl
from csdomain_sqlite.backend import SqliteBackend, SqliteTransaction


__all__ = ["SCHEMES", "SqliteBackend", "SqliteTransaction", "csdomain_open_store"]

SCHEMES = ("sqlite",)


@hookimpl
def csdomain_open_store(url: str) -> SqliteBackend | None:
    """Open ``sqlite:`` URLs; every other scheme is someone else's."""
    if not url.startswith("sqlite:"):
        return None
    return SqliteBackend.from_url(url)
