"""``BackendConformance``: every group of contract tests in one base class."""

from __future__ import annotations

from csdomain.testing.conformance.concurrency import ConcurrencyChecks
from csdomain.testing.conformance.crud import CrudChecks
from csdomain.testing.conformance.fields import FieldChecks
from csdomain.testing.conformance.inputs import InputChecks
from csdomain.testing.conformance.machine import MachineChecks
from csdomain.testing.conformance.optional import OptionalChecks
from csdomain.testing.conformance.outbox import OutboxChecks
from csdomain.testing.conformance.persistence import PersistenceChecks
from csdomain.testing.conformance.queries import QueryChecks
from csdomain.testing.conformance.transactions import TransactionChecks
from csdomain.testing.conformance.transfer import TransferChecks


__all__ = ["BackendConformance"]


class BackendConformance(
    CrudChecks,
    QueryChecks,
    FieldChecks,
    TransactionChecks,
    ConcurrencyChecks,
    OutboxChecks,
    InputChecks,
    TransferChecks,
    OptionalChecks,
    PersistenceChecks,
    MachineChecks,
):
    """Contract tests every csdomain backend must pass; subclass and implement make_store.

    Knobs (class attributes): ``persistent``, ``concurrent_threads``, ``batch_size``,
    ``thread_timeout``, ``retry_attempts``, ``overlap_wait``, ``state_machine_steps``;
    factory methods: :meth:`make_store` (required) and :meth:`reopen_store`.
    """
