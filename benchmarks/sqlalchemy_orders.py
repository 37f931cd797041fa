"""SQLAlchemy 2 ORM baselines for the store benchmarks (needs ``sqlalchemy>=2``).

Two ways an application would store csdomain's orders with the SQLAlchemy ORM:

- :func:`relational_orders`: the idiomatic relational mapping. An ``orders`` table with
  one column per scalar field (the consignee inline, amounts as ``Numeric``, instants as
  timezone-aware ``DateTime``, a ``version`` column as SQLAlchemy's optimistic
  ``version_id_col``) and child tables for lines, payments and the status history, each
  with its foreign-key index; ``orders`` has the same indexes as csdomain's ``order``
  kind. The ORM objects are the application's models, so they are built before the clock
  starts, as csdomain's frozen orders are.
- :func:`document_orders`: SQLAlchemy storing exactly what csdomain stores (key,
  version, the converter's JSON document and the index columns, one row per order).
  Turning an order into its row is part of storing it here, as it is for csdomain.

Each comes in two ways of writing: ``Session.add_all`` (the unit-of-work flush, one ORM
object per row) and the ORM's bulk ``insert()`` with lists of parameter dictionaries
(SQLAlchemy 2's fastest ORM path, several times faster than ``add_all``). The bulk rows
are the ones the store is measured against; ``add_all`` is kept for reference.

Every engine uses the SQLite settings of csdomain's backend (WAL, ``synchronous=normal``,
a 64 MiB page cache) and the converter's JSON hook (:func:`json_unstructure_hook`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    create_engine,
    event,
    exc,
    insert,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from csdomain.kinds import ORDERS
from csdomain.orders import Order
from csdomain.serialization import json_unstructure_hook


warnings.filterwarnings("ignore", category=exc.SAWarning, message=".*Decimal.*")
UNSTRUCTURE = json_unstructure_hook(Order)
#: The page cache csdomain's SQLite backend gives every connection (KiB).
CACHE_KIB = 65536
#: The batch size of csdomain's ``add_many``.
BATCH = 5000


class Base(DeclarativeBase):
    pass


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(nullable=False)
    customer_id: Mapped[str] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(index=True)
    currency: Mapped[str]
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    placed_by: Mapped[str]
    kind: Mapped[str] = mapped_column(index=True)
    dealer_id: Mapped[str | None] = mapped_column(index=True)
    contract_number: Mapped[str | None]
    prepayment: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    consignee: Mapped[str | None]
    consignee_phone: Mapped[str | None]
    consignee_address: Mapped[str | None]
    consignee_postcode: Mapped[str | None]
    invoice_title: Mapped[str | None]
    salesperson: Mapped[str | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    lines: Mapped[list[LineRow]] = relationship(cascade="all, delete-orphan")
    payments: Mapped[list[PaymentRow]] = relationship(cascade="all, delete-orphan")
    history: Mapped[list[StatusChangeRow]] = relationship(cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's spelling
    __table_args__ = (Index("orders_customer_status", "customer_id", "status"),)


class LineRow(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    sku: Mapped[str]
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    gift: Mapped[bool]


class PaymentRow(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str]
    reference: Mapped[str]


class StatusChangeRow(Base):
    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    from_: Mapped[str | None]
    to: Mapped[str]
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str]
    note: Mapped[str]


class DocumentBase(DeclarativeBase):
    pass


class OrderDocument(DocumentBase):
    __tablename__ = "k_order"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(nullable=False)
    doc: Mapped[bytes] = mapped_column(LargeBinary)
    i_customer_id: Mapped[str | None] = mapped_column(index=True)
    i_status: Mapped[str | None] = mapped_column(index=True)
    i_channel: Mapped[str | None] = mapped_column(index=True)
    i_kind: Mapped[str | None] = mapped_column(index=True)
    i_dealer_id: Mapped[str | None] = mapped_column(index=True)
    i_salesperson: Mapped[str | None] = mapped_column(index=True)
    i_placed_at: Mapped[str | None] = mapped_column(index=True)
    i_delivered_at: Mapped[str | None] = mapped_column(index=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's spelling
    __table_args__ = (Index("k_order_customer_status", "i_customer_id", "i_status"),)


def engine_for(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = wal")
        cursor.execute("PRAGMA synchronous = normal")
        cursor.execute(f"PRAGMA cache_size = {-CACHE_KIB}")
        cursor.close()

    return engine


def relational_row(order: Order) -> OrderRow:
    """The ORM object graph of one order."""
    c = order.consignee
    return OrderRow(
        id=order.id,
        customer_id=order.customer_id,
        channel=order.channel.value,
        currency=order.currency,
        placed_at=order.placed_at,
        placed_by=order.placed_by,
        kind=order.kind.value,
        dealer_id=order.dealer_id,
        contract_number=order.contract_number,
        prepayment=None if order.prepayment is None else order.prepayment.amount,
        consignee=None if c is None else c.consignee,
        consignee_phone=None if c is None else c.phone,
        consignee_address=None if c is None else c.address,
        consignee_postcode=None if c is None else c.postcode,
        invoice_title=None if c is None else c.invoice_title,
        salesperson=order.salesperson,
        status=order.status.value,
        delivered_at=order.delivered_at,
        lines=[
            LineRow(sku=x.sku, quantity=x.quantity, unit_price=x.unit_price.amount, gift=x.gift)
            for x in order.lines
        ],
        payments=[
            PaymentRow(amount=p.amount.amount, at=p.at, by=p.by, reference=p.reference)
            for p in order.payments
        ],
        history=[
            StatusChangeRow(from_=h.from_, to=h.to, at=h.at, by=h.by, note=h.note)
            for h in order.history
        ],
    )


def relational_orders(directory: Path) -> tuple[Callable[[list[Order]], None], Any]:
    """``(prepare, run)``: ``prepare(orders)`` builds ORM objects, ``run()`` stores them."""
    state: dict[str, Any] = {"n": 0, "rows": []}

    def prepare(orders: list[Order]) -> None:
        state["rows"] = [relational_row(o) for o in orders]

    def run() -> None:
        state["n"] += 1
        engine = engine_for(directory / f"sa-relational-{state['n']}.db")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(state["rows"])
            session.commit()
        engine.dispose()

    return prepare, run


def document_orders(directory: Path, orders: list[Order]) -> Callable[[], None]:
    """Store ``orders`` as csdomain does (one JSON document per order) through the ORM."""
    counter = iter(range(10**6))

    def run() -> None:
        engine = engine_for(directory / f"sa-document-{next(counter)}.db")
        DocumentBase.metadata.create_all(engine)
        rows = []
        for order in orders:
            index = ORDERS.index_values(order)
            rows.append(
                OrderDocument(
                    key=order.id,
                    doc=orjson.dumps(UNSTRUCTURE(order)),
                    **{f"i_{name}": value for name, value in index.items()},
                )
            )
        with Session(engine) as session:
            session.add_all(rows)
            session.commit()
        engine.dispose()

    return run


def relational_params(orders: list[Order]) -> dict[str, list[dict[str, Any]]]:
    """The parameter dictionaries of each table for a bulk ``insert()`` of ``orders``."""
    tables: dict[str, list[dict[str, Any]]] = {
        "orders": [],
        "order_lines": [],
        "payments": [],
        "status_changes": [],
    }
    for order in orders:
        c = order.consignee
        tables["orders"].append(
            {
                "id": order.id,
                "version": 1,
                "customer_id": order.customer_id,
                "channel": order.channel.value,
                "currency": order.currency,
                "placed_at": order.placed_at,
                "placed_by": order.placed_by,
                "kind": order.kind.value,
                "dealer_id": order.dealer_id,
                "contract_number": order.contract_number,
                "prepayment": None if order.prepayment is None else order.prepayment.amount,
                "consignee": None if c is None else c.consignee,
                "consignee_phone": None if c is None else c.phone,
                "consignee_address": None if c is None else c.address,
                "consignee_postcode": None if c is None else c.postcode,
                "invoice_title": None if c is None else c.invoice_title,
                "salesperson": order.salesperson,
                "status": order.status.value,
                "delivered_at": order.delivered_at,
            }
        )
        tables["order_lines"].extend(
            {
                "order_id": order.id,
                "sku": x.sku,
                "quantity": x.quantity,
                "unit_price": x.unit_price.amount,
                "gift": x.gift,
            }
            for x in order.lines
        )
        tables["payments"].extend(
            {
                "order_id": order.id,
                "amount": p.amount.amount,
                "at": p.at,
                "by": p.by,
                "reference": p.reference,
            }
            for p in order.payments
        )
        tables["status_changes"].extend(
            {
                "order_id": order.id,
                "from_": h.from_,
                "to": h.to,
                "at": h.at,
                "by": h.by,
                "note": h.note,
            }
            for h in order.history
        )
    return tables


_MODELS: dict[str, Any] = {
    "orders": OrderRow,
    "order_lines": LineRow,
    "payments": PaymentRow,
    "status_changes": StatusChangeRow,
}


def relational_orders_bulk(directory: Path, orders: list[Order]) -> Callable[[], None]:
    """The relational mapping written with the ORM's bulk ``insert()``, in batches of
    :data:`BATCH` orders; building the parameter dictionaries is part of the work."""
    counter = iter(range(10**6))

    def run() -> None:
        engine = engine_for(directory / f"sa-relational-bulk-{next(counter)}.db")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            for start in range(0, len(orders), BATCH):
                tables = relational_params(orders[start : start + BATCH])
                for name, model in _MODELS.items():
                    if tables[name]:
                        session.execute(insert(model), tables[name])
            session.commit()
        engine.dispose()

    return run


def document_orders_bulk(directory: Path, orders: list[Order]) -> Callable[[], None]:
    """csdomain's documents written with the ORM's bulk ``insert()``, in batches of
    :data:`BATCH` orders."""
    counter = iter(range(10**6))

    def run() -> None:
        engine = engine_for(directory / f"sa-document-bulk-{next(counter)}.db")
        DocumentBase.metadata.create_all(engine)
        with Session(engine) as session:
            for start in range(0, len(orders), BATCH):
                rows = []
                for order in orders[start : start + BATCH]:
                    index = ORDERS.index_values(order)
                    row = {f"i_{name}": value for name, value in index.items()}
                    row["key"] = order.id
                    row["version"] = 1
                    row["doc"] = orjson.dumps(UNSTRUCTURE(order))
                    rows.append(row)
                session.execute(insert(OrderDocument), rows)
            session.commit()
        engine.dispose()

    return run
