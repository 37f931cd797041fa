"""The backend SPI: what a storage backend implements (the backend author's page).

A backend stores **documents** by ``(kind, key)`` with an integer ``version`` and a few
declared **index fields** per kind, inside transactions. Typed repositories,
serialization, optimistic-concurrency bookkeeping, the outbox and naming series live in the
core (:mod:`csdomain.store`), once, for every backend. A backend is what the
``csdomain_open_store(url)`` hook returns: a :class:`Backend` whose :meth:`~Backend.begin`
hands out :class:`Transaction` objects.

The contract
------------
- **Every method of** :class:`Transaction` **is required**, the three transfer methods
  (:meth:`~Transaction.list_counters`, :meth:`~Transaction.restore_counter`,
  :meth:`~Transaction.restore`) included: ``csdomain export`` and ``csdomain import``
  (:mod:`csdomain.store.transfer`) call them on every backend, bundled or not. A backend
  without them still works for everything else; exporting from it or importing into it
  raises :class:`~csdomain.errors.PluginError` naming the missing methods.
  Four capabilities are optional: :class:`ClaimingTransaction` (rows locked for
  claiming), :class:`CounterDeletingTransaction` (removing a counter, which data
  migrations use), :class:`ProjectingTransaction` (reading chosen members of documents
  without handing over whole documents) and :class:`PurgingBackend` (making erased
  content unreadable in the backend's files).
- **Documents** are the converter's JSON bytes, or the frozen objects themselves for a
  backend whose ``stores_objects`` is ``True``. Store them verbatim and hand the same bytes
  (or object) back; the core has already checked that each one reads back (text is valid
  Unicode, integers fit in 64 bits, the model accepts every value).
- **Index values** arrive normalised: ``str`` (valid Unicode), ``int`` (signed 64-bit),
  ``float`` (never NaN) or ``None``, matching the kind's declared column types. Filters
  are :class:`Filter` objects with the same value types.
- **Order**: text sorts by code point (keys, text index fields and counter names), ``None``
  first ascending and last descending; a query's order always ends with the key.
- **Isolation**: a transaction reads one snapshot; writes are invisible to others until
  :meth:`~Transaction.commit`, and a write that lost a race is a
  :class:`~csdomain.errors.ConcurrencyConflict` (at the statement or at commit).
- **Errors**: only :class:`~csdomain.errors.CsDomainError` subclasses leave a backend.
  Translate driver errors with ``raise ... from err``: :class:`~csdomain.errors.AlreadyExists`
  for a taken key, :class:`~csdomain.errors.ConcurrencyConflict` /
  :class:`~csdomain.errors.NotFound` for a failed version check (:func:`check_version`),
  :class:`~csdomain.errors.BackendUnavailable` when the store cannot be reached,
  :class:`~csdomain.errors.ValidationError` for a value the database refuses (a URL
  option, say). Keep messages short: :func:`short_repr` bounds a value's ``repr``.

``csdomain.testing.BackendConformance`` checks all of this; a backend that passes it is a
backend. SQL backends can reuse :mod:`csdomain.store.sql` for their statements.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from csdomain.errors import ConcurrencyConflict, NotFound


__all__ = [
    "TRANSFER_METHODS",
    "Backend",
    "ClaimingTransaction",
    "CounterDeletingTransaction",
    "Filter",
    "IndexType",
    "IndexValue",
    "KindSchema",
    "Op",
    "ProjectingTransaction",
    "PurgingBackend",
    "Row",
    "Transaction",
    "check_version",
    "short_repr",
]

IndexValue: TypeAlias = str | int | float | None
IndexType: TypeAlias = Literal["text", "integer", "real"]
Op: TypeAlias = Literal["eq", "ne", "in", "lt", "le", "gt", "ge"]

#: The :class:`Transaction` methods export and import use.
TRANSFER_METHODS: tuple[str, ...] = ("list_counters", "restore_counter", "restore")


@attrs.frozen
class KindSchema:
    """What a backend needs to know about a kind: its name and index columns."""

    name: str
    indexes: tuple[tuple[str, IndexType], ...]
    composite: tuple[tuple[str, ...], ...] = ()


@attrs.frozen
class Filter:
    """One condition of a query: ``field op value`` (field ``"key"`` is the primary key)."""

    field: str
    op: Op
    value: Any


@attrs.frozen
class Row:
    """A document to write: key, document (bytes or object) and its index values."""

    key: str
    doc: Any
    index: Mapping[str, IndexValue]


@runtime_checkable
class Transaction(Protocol):
    """One backend transaction. Every method may raise the csdomain persistence errors."""

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        """Create or migrate the storage of a kind (``reindex`` computes index values)."""

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        """``(version, document)`` of ``key``, or ``None``."""

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        """Insert new documents at version 1; :class:`AlreadyExists` if a key is taken."""

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        """Replace a document if its version is ``expected_version``; returns the new one.

        Raises :class:`ConcurrencyConflict` on a version mismatch, :class:`NotFound` when
        the key is not stored.
        """

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        """Delete a document at ``expected_version`` (same errors as :meth:`update`)."""

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        """Documents matching every filter as ``(key, version, document)``, in order."""

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        """How many documents match every filter."""

    def next_counter(self, name: str) -> int:
        """Increment the named counter and return its new value (1 for a new counter)."""

    def list_counters(self) -> Iterator[tuple[str, int]]:
        """Every counter as ``(name, value)`` in this transaction's snapshot, ordered by
        name (code-point order). Export reads them; import checks the store has none."""

    def restore_counter(self, name: str, value: int) -> None:
        """Create counter ``name`` at ``value`` (import); :class:`AlreadyExists` if it
        exists (at once, or at commit for a backend that checks writes then)."""

    def restore(self, kind: str, rows: Sequence[Row], versions: Sequence[int]) -> None:
        """Insert new documents, each at its version (import; ``versions[i]`` belongs to
        ``rows[i]``); :class:`AlreadyExists` if a key is taken, like :meth:`insert`."""

    def commit(self) -> None:
        """Make the transaction's writes durable and visible."""

    def rollback(self) -> None:
        """Discard the transaction's writes."""


@runtime_checkable
class ClaimingTransaction(Transaction, Protocol):
    """Optional capability of a transaction: read rows locked for claiming.

    Backends with row locks (PostgreSQL) implement it so that several workers sharing a
    queue (the outbox, due messages) each take different rows without waiting for one
    another; :meth:`Repository.claim_candidates` falls back to ``find`` elsewhere.
    """

    def find_for_update(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        *,
        skip_locked: bool = True,
    ) -> Iterator[tuple[str, int, Any]]:
        """Like :meth:`Transaction.find` (no offset), each row locked until the transaction
        ends; with ``skip_locked`` rows another transaction has locked are left out."""


@runtime_checkable
class ProjectingTransaction(Transaction, Protocol):
    """Optional capability of a transaction: read chosen members of documents.

    Reports and statistics read a few fields of many documents; a backend that can pick
    them out of its stored documents (SQLite's ``json_extract``, PostgreSQL's JSONB
    operators, plain attribute reads on objects) saves the core from building every
    document. :meth:`Repository.scan_fields <csdomain.store.uow.Repository.scan_fields>`
    uses it when the transaction has it and otherwise picks the fields from whole
    documents read with :meth:`~Transaction.find`, so a backend without it stays correct.
    """

    def find_members(  # noqa: PLR0917 - mirrors Transaction.find
        self,
        kind: str,
        members: Sequence[str],
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[Any]:
        """The top-level ``members`` of each document matching every filter, in order.

        Same rows, order, paging and snapshot as :meth:`Transaction.find` with the same
        arguments. ``members`` are names of the document's top-level JSON members (the
        core passes only names of the model's fields: ``[A-Za-z_][A-Za-z0-9_]*``). Each
        row is, for a backend storing JSON, the JSON text (``str`` or ``bytes``) of an
        array holding each member's value in the order asked (``null`` for a member the
        document lacks); for a backend whose ``stores_objects`` is ``True``, a tuple of
        the object's attributes of those names.
        """


@runtime_checkable
class CounterDeletingTransaction(Transaction, Protocol):
    """Optional capability of a transaction: remove a counter.

    Data migrations use it (:meth:`KindRegistry.register_migration
    <csdomain.store.schema.KindRegistry.register_migration>`): the customer-code
    migration folds counters whose names held a customer's name into the city-month
    counter and removes them. Without it such a migration folds but cannot remove.
    """

    def delete_counter(self, name: str) -> None:
        """Remove counter ``name`` in this transaction (nothing happens if it is absent);
        a later :meth:`~Transaction.next_counter` of that name starts again at 1.
        A concurrent change of the counter conflicts like one of a document."""


@runtime_checkable
class Backend(Protocol):
    """A storage backend: hands out transactions over documents."""

    #: ``True`` when documents are the frozen objects themselves (no serialization).
    stores_objects: bool
    #: The URL the backend was opened with, credentials removed.
    url: str

    def begin(self, *, readonly: bool = False) -> Transaction:
        """Start a transaction; writers are serialized by the backend or checked at commit."""

    def close(self) -> None:
        """Release every resource (connections, temporary files)."""


@runtime_checkable
class PurgingBackend(Backend, Protocol):
    """Optional capability of a backend: make erased content unreadable in its files.

    A database keeps overwritten and deleted content around for a while (SQLite in free
    space and in its write-ahead log, PostgreSQL in dead row versions until ``VACUUM``).
    After an erasure on request has committed (:meth:`PrivacyDesk.erase_customer
    <csdomain.desk.privacy.PrivacyDesk.erase_customer>`), the store calls
    :meth:`purge_erased` so that none of the erased values can be read from the
    backend's files any more. A backend without it keeps them until it reuses the space.
    """

    def purge_erased(self, kinds: Sequence[str]) -> None:
        """Make overwritten and deleted content of these kinds unreadable in the backend's
        files. Runs outside any transaction, after the erasing one committed; may take
        long on a large store; raises :class:`~csdomain.errors.BackendUnavailable` when
        it could not finish (the erased data is gone from every read, only the old bytes
        may remain: call it again)."""


def check_version(kind: str, key: str, expected: int, actual: int | None) -> None:
    """Raise the right error when ``actual`` (``None``: absent) is not ``expected``.

    For backends: :class:`NotFound` when the key is absent, :class:`ConcurrencyConflict`
    when another transaction changed it first.
    """
    if actual is None:
        raise NotFound(kind, key)
    if actual != expected:
        raise ConcurrencyConflict(kind, key, expected, actual)


_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 4


def short_repr(value: object) -> str:
    """A ``repr`` of ``value`` short enough for an error message, however big it is."""
    return _REPR.repr(value)
