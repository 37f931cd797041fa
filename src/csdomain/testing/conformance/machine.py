"""The dict-model state machine: random operations on the backend must agree with a dict.

Like hypothesis's own ``test_database_agreement``: every rule applies one operation to the
store under test and to a plain model (documents, deleted keys, a counter, the outbox's
statuses), and after every step the invariant compares them through ``find``, ``get`` and
``count``. Rules cover add, update (fresh and stale), delete, rollback, two threads adding
one key at once, counters, emitting and claiming outbox entries and, for a persistent
backend, reopening the store.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from csdomain.errors import AlreadyExists, ConcurrencyConflict, CsDomainError, NotFound
from csdomain.store import OUTBOX
from csdomain.testing.conformance.base import KitBase, _fail
from csdomain.testing.conformance.specimens import (
    SPECIMENS,
    T0,
    Specimen,
    SpecimenRecorded,
    specimen,
)


__all__ = ["MachineChecks", "agreement_machine"]

_LABELS = st.sampled_from(["a", "b", "c", "客户", "x'; --"])
_GROUPS = st.sampled_from(["g1", "g2", None])
_NOTES = st.sampled_from(["", "ü and 中文", "nul\x00inside", "😀👍🏽", "line\nbreak\ttab"])


class _Abort(CsDomainError):
    """Raised inside a unit of work to force a rollback."""


def agreement_machine(kit: KitBase) -> type[RuleBasedStateMachine]:
    """The state machine class for ``kit``'s backend."""
    reopenable = kit.can_reopen()
    threaded = kit.concurrent_threads > 0

    class StoreAgreesWithDict(RuleBasedStateMachine):
        """Random operations applied to the backend and to a dict must agree."""

        keys = Bundle("keys")

        def __init__(self) -> None:
            super().__init__()
            self.store = kit.make_store()
            self.model: dict[str, tuple[Specimen, int]] = {}
            self.deleted: set[str] = set()
            self.counter = 0
            self.outbox: dict[str, str] = {}
            self.tick = 0
            #: Whether anything was committed since the store was (re)opened.
            self.written = False

        def teardown(self) -> None:
            self.store.close()

        def _stored(self, item: Specimen) -> None:
            self.model[item.id] = (item, 1)
            self.deleted.discard(item.id)
            self.written = True

        @rule(target=keys, n=st.integers(0, 10_000), label=_LABELS, group=_GROUPS, note=_NOTES)
        def add(self, n: int, label: str, group: str | None, note: str) -> str:
            item = specimen(n, label=label, group=group, note=note)
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
            except AlreadyExists:
                assert item.id in self.model
            else:
                assert item.id not in self.model
                self._stored(item)
            return item.id

        @precondition(lambda _self: threaded)
        @rule(target=keys, n=st.integers(0, 10_000))
        def add_concurrently(self, n: int) -> str:
            key = specimen(n).id
            outcomes: list[str] = ["", ""]
            barrier = threading.Barrier(2, timeout=kit.thread_timeout)

            def work(number: int) -> None:
                barrier.wait()
                try:
                    with self.store.unit_of_work() as uow:
                        uow.repo(SPECIMENS).add(specimen(n, note=f"thread {number}"))
                except (AlreadyExists, ConcurrencyConflict):
                    outcomes[number] = "refused"
                else:
                    outcomes[number] = "committed"

            kit._run_threads(work, 2)
            winners = [number for number, outcome in enumerate(outcomes) if outcome == "committed"]
            if key in self.model:
                assert winners == [], f"a taken key was added again: {outcomes}"
            else:
                assert len(winners) == 1, f"two threads adding one key: {outcomes}"
                self._stored(specimen(n, note=f"thread {winners[0]}"))
            return key

        @rule(key=keys, label=_LABELS, note=_NOTES, stale=st.booleans())
        def update(self, key: str, label: str, note: str, stale: bool) -> None:
            if key not in self.model:
                missing = attrs.evolve(specimen(0), id=key)
                with pytest.raises(NotFound), self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).update(missing, expected_version=1)
                return
            item, version = self.model[key]
            changed = attrs.evolve(item, label=label, note=note, rank=(item.rank + 1) % 10)
            expected = version - 1 if stale else version
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).update(changed, expected_version=expected)
            except ConcurrencyConflict:
                assert stale
            else:
                assert not stale
                self.model[key] = (changed, version + 1)
                self.written = True

        @rule(key=consumes(keys))
        def delete(self, key: str) -> None:
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).delete(key)
            except NotFound:
                assert key not in self.model
            else:
                del self.model[key]
                self.deleted.add(key)
                self.written = True

        @rule(n=st.integers(0, 10_000), fail=st.booleans())
        def add_and_maybe_roll_back(self, n: int, fail: bool) -> None:
            item = specimen(n, label="rb")
            try:
                with self.store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(item)
                    if fail:
                        raise _Abort
            except (_Abort, AlreadyExists):
                return
            self._stored(item)

        @rule()
        def take_a_number(self) -> None:
            with self.store.unit_of_work() as uow:
                value = uow.next_counter("agreement")
            self.counter += 1
            assert value == self.counter
            self.written = True

        @rule(label=_LABELS, group=_GROUPS)
        def find_matches(self, label: str, group: str | None) -> None:
            with self.store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                found = [s.id for s in repo.find(label=label, group=group)]
                counted = repo.count(label=label, group__ne=group)
            expected = sorted(
                k for k, (s, _) in self.model.items() if s.label == label and s.group == group
            )
            assert found == expected
            others = [s for s, _ in self.model.values() if s.label == label and s.group != group]
            assert counted == len(others)

        @rule(count=st.integers(1, 3))
        def emit(self, count: int) -> None:
            with self.store.unit_of_work() as uow:
                ids = []
                for _ in range(count):
                    self.tick += 1
                    at = T0 + timedelta(seconds=self.tick)
                    ids.append(uow.emit(SpecimenRecorded(f"e{self.tick}", at), at=at).id)
            self.outbox.update(dict.fromkeys(ids, "pending"))
            self.written = True

        @rule(limit=st.integers(1, 4))
        def claim(self, limit: int) -> None:
            with self.store.unit_of_work() as uow:
                batch = uow.outbox.claim_candidates(
                    status="pending", order_by="created_at", limit=limit
                )
                for entry in batch:
                    uow.outbox.update(entry.processed(T0))
            pending = sorted(key for key, status in self.outbox.items() if status == "pending")
            assert [entry.id for entry in batch] == pending[:limit]
            self.outbox.update(dict.fromkeys(pending[:limit], "processed"))
            self.written = self.written or bool(batch)

        @precondition(lambda self: reopenable and self.written)
        @rule()
        def reopen(self) -> None:
            reopened = kit.reopen_store(self.store)
            if reopened is None:
                _fail("reopen_store() returned None in the middle of a run")
            self.store = reopened
            self.written = False

        @invariant()
        def everything_agrees(self) -> None:
            with self.store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                stored = {s.id: s for s in repo.find()}
                assert stored == {k: s for k, (s, _) in self.model.items()}
                rows = uow.tx.find(SPECIMENS.name, (), (("key", False),), None, 0)
                versions = {key: version for key, version, _doc in rows}
                assert versions == {k: version for k, (_, version) in self.model.items()}
                assert repo.count() == len(self.model)
                gone = sorted(self.deleted)
                assert [s.id for s in repo.find(key__in=gone)] == [], "deleted, still found"
                for key in gone[-1:] + sorted(self.model)[-1:]:
                    expected = self.model.get(key)
                    assert repo.get_or_none(key) == (expected and expected[0]), key
                outbox = uow.repo(OUTBOX)
                pending = sum(1 for status in self.outbox.values() if status == "pending")
                assert outbox.count(status="pending") == pending
                assert outbox.count() == len(self.outbox)

    return StoreAgreesWithDict


class MachineChecks(KitBase):
    """The state machine, as one test."""

    #: Steps of one state-machine run (the number of runs is hypothesis's ``max_examples``).
    state_machine_steps: ClassVar[int] = 25

    def test_agrees_with_a_dict_model(self) -> None:
        run_state_machine_as_test(
            agreement_machine(self),
            settings=settings(
                stateful_step_count=self.state_machine_steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
