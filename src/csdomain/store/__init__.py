"""Storage: kinds, the backend SPI, the unit of work, typed repositories and the outbox.

A backend stores **documents** by ``(kind, key)`` with an integer ``version`` and a few
declared **index fields** per kind, inside transactions; everything else lives in the core,
once, for every backend::

    store = csdomain.open_store("sqlite:///cs.db")
    with store.unit_of_work() as uow:            # one transaction: commit on clean exit,
        order = uow.repo(ORDERS).get("SO-1")     # roll back on exception
        uow.repo(ORDERS).update(order.confirm(at=now, by=actor))
        uow.emit(OrderConfirmed(...))            # outbox row in the same transaction

The package's modules, each importable on its own:

- :mod:`csdomain.store.spi` -- the backend SPI (the backend author's page);
- :mod:`csdomain.store.schema` -- kinds, declared indexes, the kind registry, queries;
- :mod:`csdomain.store.uow` -- :class:`Store`, :class:`UnitOfWork`, :class:`Repository`,
  :func:`open_store`;
- :mod:`csdomain.store.outbox` -- :class:`OutboxEntry` and its ids;
- :mod:`csdomain.store.sql` -- SQL text shared by the SQL backends (no driver);
- :mod:`csdomain.store.transfer` -- export and import of a whole store as JSON Lines.
"""

from __future__ import annotations

from csdomain.store.outbox import OUTBOX, OutboxEntry, outbox_id, random_token
from csdomain.store.schema import (
    KINDS,
    Index,
    Kind,
    KindRegistry,
    Migration,
    counter_fold,
    normalize_index_value,
    parse_order,
    parse_where,
)
from csdomain.store.spi import (
    Backend,
    ClaimingTransaction,
    CounterDeletingTransaction,
    Filter,
    IndexType,
    IndexValue,
    KindSchema,
    Op,
    ProjectingTransaction,
    PurgingBackend,
    Row,
    Transaction,
    check_version,
    short_repr,
)
from csdomain.store.uow import Repository, Store, UnitOfWork, open_store


__all__ = [
    "KINDS",
    "OUTBOX",
    "Backend",
    "ClaimingTransaction",
    "CounterDeletingTransaction",
    "Filter",
    "Index",
    "IndexType",
    "IndexValue",
    "Kind",
    "KindRegistry",
    "KindSchema",
    "Migration",
    "Op",
    "OutboxEntry",
    "ProjectingTransaction",
    "PurgingBackend",
    "Repository",
    "Row",
    "Store",
    "Transaction",
    "UnitOfWork",
    "check_version",
    "counter_fold",
    "normalize_index_value",
    "open_store",
    "outbox_id",
    "parse_order",
    "parse_where",
    "random_token",
    "short_repr",
]
