"""The backend conformance kit: the whole storage contract as one base class.

A backend author subclasses :class:`BackendConformance` and implements one factory
method; pytest then runs every contract test against the backend::

    from csdomain.store import open_store
    from csdomain.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        persistent = True                  # it keeps data: reopen_store is required

        def make_store(self):
            return open_store("mybackend://...")     # a new, empty store every call

        def reopen_store(self, store):
            store.close()
            return open_store(store.url)

The base class has no ``Test`` prefix, so pytest never collects it on its own. It uses a
factory method rather than a function-scoped fixture because hypothesis refuses those
inside ``@given``. The tests come in groups, one module each: :mod:`~.crud`,
:mod:`~.queries`, :mod:`~.transactions`, :mod:`~.concurrency`, :mod:`~.outbox`,
:mod:`~.inputs`, :mod:`~.transfer`, :mod:`~.persistence` and the dict-model state machine
(:mod:`~.machine`); :mod:`~.base` has the knobs. ``csdomain.testing`` registers the kit
for pytest's assertion rewriting, so a failure shows the values it compared.
"""

from __future__ import annotations

from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.kit import BackendConformance
from csdomain.testing.conformance.machine import agreement_machine
from csdomain.testing.conformance.queries import expected_order
from csdomain.testing.conformance.specimens import (
    GADGETS,
    HOSTILE_STRINGS,
    ODD_KEYS,
    SPECIMENS,
    T0,
    Gadget,
    Specimen,
    SpecimenRecorded,
    specimen,
)


__all__ = [
    "GADGETS",
    "HOSTILE_STRINGS",
    "ODD_KEYS",
    "SPECIMENS",
    "T0",
    "BackendConformance",
    "Gadget",
    "KitBase",
    "Specimen",
    "SpecimenRecorded",
    "agreement_machine",
    "expected_order",
    "specimen",
]
