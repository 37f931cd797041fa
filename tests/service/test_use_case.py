"""The one use-case skeleton (csdomain.desk.base): check, permit, load, step, save, emit, retry."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.auth import Actor, Permission
from csdomain.clock import FixedClock
from csdomain.desk.args import Id, LongText
from csdomain.desk.base import DeskBase, checked, use_case, use_cases
from csdomain.errors import (
    ConcurrencyConflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from csdomain.events import Event
from csdomain.policy import LimitsPolicy
from csdomain.service import ServiceDesk
from csdomain.store import OUTBOX, Kind, KindRegistry, Store, UnitOfWork, open_store


AT = datetime(2026, 11, 2, 1, tzinfo=UTC)
CLERK = Actor("clerk", {"specialist"})
OUTSIDER = Actor("visitor", set())


@attrs.frozen
class Note:
    id: str
    text: str


@attrs.frozen
class ToyNoteWritten(Event):
    note_id: str
    text: str


def _note_events(before: Note | None, after: Note) -> list[Event]:
    return [] if before == after else [ToyNoteWritten(note_id=after.id, text=after.text)]


NOTES: Kind[Note] = Kind("toy_note", Note, events=_note_events)


class NoteDesk(DeskBase):
    attempts = 0
    seen: tuple[str, ...] = ()

    @use_case(Permission.READ_CUSTOMER)
    def write_note(self, uow: UnitOfWork, note_id: Id, text: LongText, *, by: Actor) -> Note:
        """Store a new note."""
        return self.create(uow, NOTES, Note(note_id, text))

    @use_case(Permission.READ_CUSTOMER)
    def amend_note(self, uow: UnitOfWork, note_id: Id, text: LongText, *, by: Actor) -> Note:
        """Change a note's text."""
        return self.change(uow, NOTES, note_id, lambda note: attrs.evolve(note, text=text))

    @use_case(Permission.READ_CUSTOMER, readonly=True)
    def read_note(self, uow: UnitOfWork, note_id: Id, *, by: Actor) -> Note:
        """The stored note."""
        return uow.repo(NOTES).get(note_id)

    @use_case(Permission.READ_CUSTOMER)
    def flaky_tags(self, uow: UnitOfWork, tags: Iterable[Id], *, by: Actor) -> int:
        """Conflicts on its first attempt; the retry must see the whole argument."""
        type(self).attempts += 1
        type(self).seen = tuple(tags)
        if type(self).attempts == 1:
            raise ConcurrencyConflict("toy_note", "x", 1, 2)
        return len(tags)  # type: ignore[arg-type]

    @checked(Permission.READ_CUSTOMER)
    def count_words(self, text: LongText, *, by: Actor) -> int:
        """A calculation without a unit of work."""
        return len(text.split())


@pytest.fixture
def store() -> Iterable[Store]:
    kinds = KindRegistry()
    kinds.register(NOTES)
    kinds.register(OUTBOX)
    with open_store("memory://", clock=FixedClock(AT), kinds=kinds) as opened:
        yield opened


def _desk(store: Store) -> NoteDesk:
    return NoteDesk(store, clock=FixedClock(AT))


def test_the_unit_of_work_is_hidden_from_the_public_signature() -> None:
    signature = inspect.signature(NoteDesk.write_note)
    assert list(signature.parameters) == ["note_id", "text", "by"]
    assert set(use_cases(NoteDesk)) == {
        "write_note",
        "amend_note",
        "read_note",
        "flaky_tags",
        "count_words",
    }
    assert use_cases(NoteDesk)["read_note"].readonly
    assert not use_cases(NoteDesk)["count_words"].transaction


def test_create_stores_the_object_and_emits_the_events_the_kind_declares(store: Store) -> None:
    desk = _desk(store)
    desk.write_note("N-1", "hello", by=CLERK)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(NOTES).get("N-1") == Note("N-1", "hello")
        assert [e.type for e in uow.outbox.find()] == ["ToyNoteWritten"]


def test_change_loads_applies_the_step_saves_and_emits(store: Store) -> None:
    desk = _desk(store)
    desk.write_note("N-1", "hello", by=CLERK)
    assert desk.amend_note("N-1", "bye", by=CLERK) == Note("N-1", "bye")
    assert desk.read_note("N-1", by=CLERK).text == "bye"
    with store.unit_of_work(readonly=True) as uow:
        assert uow.outbox.count() == 2


def test_an_unchanged_step_writes_and_emits_nothing(store: Store) -> None:
    desk = _desk(store)
    desk.write_note("N-1", "hello", by=CLERK)
    desk.amend_note("N-1", "hello", by=CLERK)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.outbox.count() == 1
        assert uow.repo(NOTES).get_with_version("N-1")[1] == 1


def test_arguments_are_checked_before_the_permission(store: Store) -> None:
    with pytest.raises(ValidationError) as err:
        _desk(store).write_note("N-1", 1.5, by=OUTSIDER)  # type: ignore[arg-type]
    assert err.value.errors == [("text", "expected text, got float")]


def test_the_permission_is_checked_before_anything_is_loaded(store: Store) -> None:
    """An outsider learns nothing about which ids exist: PermissionDenied, never NotFound."""
    desk = _desk(store)
    with pytest.raises(PermissionDenied):
        desk.read_note("no-such-note", by=OUTSIDER)
    with pytest.raises(NotFound):
        desk.read_note("no-such-note", by=CLERK)


def test_a_missing_or_wrong_actor_is_a_validation_error(store: Store) -> None:
    desk = _desk(store)
    with pytest.raises(ValidationError, match="by: expected an Actor"):
        desk.read_note("N-1", by="clerk")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="read_note"):
        desk.read_note("N-1")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="unexpected keyword"):
        desk.read_note("N-1", by=CLERK, extra=1)  # type: ignore[call-arg]


def test_a_conflict_reruns_the_body_with_the_whole_argument(store: Store) -> None:
    desk = _desk(store)
    NoteDesk.attempts = 0
    assert desk.flaky_tags((t for t in ["a", "b"]), by=CLERK) == 2
    assert NoteDesk.attempts == 2
    assert NoteDesk.seen == ("a", "b")


def test_a_refused_call_leaves_nothing_behind(store: Store) -> None:
    desk = _desk(store)
    with pytest.raises(ValidationError):
        desk.write_note("N-1", "x" * (desk.policy.limits.max_long_text + 1), by=CLERK)
    with store.unit_of_work(readonly=True) as uow:
        assert uow.repo(NOTES).count() == 0
        assert uow.outbox.count() == 0


def test_checked_use_cases_check_arguments_and_permission_without_a_unit_of_work(
    store: Store,
) -> None:
    desk = _desk(store)
    assert desk.count_words("two words", by=CLERK) == 2
    with pytest.raises(PermissionDenied):
        desk.count_words("two words", by=OUTSIDER)
    with pytest.raises(ValidationError):
        desk.count_words(None, by=CLERK)  # type: ignore[arg-type]


def test_a_use_case_with_an_annotation_outside_the_vocabulary_fails_when_compiled() -> None:
    class BadDesk(DeskBase):
        @use_case()
        def anything(self, uow: UnitOfWork, value: object) -> None:
            """Takes anything: not allowed."""

    with pytest.raises(TypeError, match="no argument check"):
        use_cases(BadDesk)["anything"].checks()


def test_a_desk_is_a_context_manager_that_closes_its_store(tmp_path: object) -> None:
    # Rule: `with ServiceDesk(open_store(url)) as desk:` closes the store's connections.
    from csdomain.service import ServiceDesk

    closed: list[bool] = []
    store = open_store("memory://")
    original = store.close

    def close() -> None:
        closed.append(True)
        original()

    store.close = close  # type: ignore[method-assign]
    with ServiceDesk(store) as desk:
        assert desk.store is store
        assert closed == []
    assert closed == [True]


def test_no_two_desk_areas_define_the_same_method() -> None:
    # Rule: ServiceDesk combines the area desks as mixins; a helper two areas both define
    # (``_shown`` ...) would silently run the other area's code on one of them.
    from csdomain.desk.base import DeskBase as Base
    from csdomain.service import ServiceDesk

    owners: dict[str, list[str]] = {}
    for cls in ServiceDesk.__mro__:
        if cls in (ServiceDesk, Base) or not cls.__module__.startswith("csdomain.desk"):
            continue
        for name, value in vars(cls).items():
            if callable(value) or isinstance(value, staticmethod | classmethod | property):
                owners.setdefault(name, []).append(cls.__name__)
    assert {name: areas for name, areas in owners.items() if len(areas) > 1} == {}


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10**6),
    st.text(max_size=5),
    st.sampled_from([CLERK, OUTSIDER, AT, (), ["SKU-1"], {"a": 1}]),
)


def _outcome(bind: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", bind()
    except ValidationError as err:
        return "refused", err.errors


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_compiled_binder_checks_every_call_as_signature_bind_does(data: st.DataObject) -> None:
    # Invariant: for every use case of the desk and any call shape (too many positional
    # arguments, unknown or repeated names, missing ones, values of any type), the binder
    # compiled per use case accepts exactly what Signature.bind and the checks accept,
    # with the same checked values in the same order, or refuses with the same errors.
    specs = use_cases(ServiceDesk)
    spec = specs[data.draw(st.sampled_from(sorted(specs)), label="use case")]
    names = list(spec.signature.parameters)
    args = tuple(data.draw(st.lists(_VALUES, max_size=len(names) + 1), label="args"))
    keys = st.sampled_from([*names, "unknown"]) if names else st.just("unknown")
    kwargs = data.draw(st.dictionaries(keys, _VALUES, max_size=len(names) + 1), label="kwargs")
    limits = LimitsPolicy()
    binder = spec._compile_binder()

    def compiled() -> tuple[dict[str, Any], dict[str, Any]]:
        call = binder(args, kwargs, limits)
        rebound = spec.signature.bind(*call.args, **call.kwargs).arguments
        return dict(call.arguments), dict(rebound)

    def reference() -> tuple[dict[str, Any], dict[str, Any]]:
        arguments = dict(spec.check_arguments(args, kwargs, limits).arguments)
        return arguments, arguments

    got, want = _outcome(compiled), _outcome(reference)
    assert got[0] == want[0]
    if got[0] == "ok":
        assert list(got[1][0].items()) == list(want[1][0].items())
        assert got[1][1] == want[1][1]
    else:
        assert got[1] == want[1]
