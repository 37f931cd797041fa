"""PostgreSQL storage backend for csdomain (``postgresql://user:pass@host:port/db``).

Registered through the ``csdomain`` entry-point group; applications reach it with
``csdomain.open_store("postgresql://...")`` after ``pip install "csdomain[postgres]"`` and
never import this package themselves. Importing it stays cheap and needs no driver: the
driver (psycopg 3) is imported only when a ``postgresql:`` URL is opened, so every
installation can load the plugin list even without the ``postgres`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from csdomain.errors import BackendUnavailable
from csdomain.hookspecs import hookimpl


if TYPE_CHECKING:
    from csdomain_postgres.backend import PostgresBackend


__all__ = ["SCHEMES", "csdomain_open_store"]

SCHEMES = ("postgresql", "postgres")


@hookimpl
def csdomain_open_store(url: str) -> PostgresBackend | None:
    """Open ``postgresql:`` (or ``postgres:``) URLs; every other scheme is someone else's."""
    if url.partition(":")[0] not in SCHEMES:
        return None
    try:
        from csdomain_postgres.backend import PostgresBackend  # noqa: PLC0415 - lazy driver
    except ImportError as err:
        if err.name is None or not err.name.startswith(("psycopg", "psycopg_pool")):
            raise
        msg = (
            f'the PostgreSQL backend needs the {err.name} package: pip install "csdomain[postgres]"'
        )
        raise BackendUnavailable(msg) from err
    return PostgresBackend.from_url(url)
