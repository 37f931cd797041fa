"""Contract tests of reading chosen fields (``Repository.scan_fields``).

A backend with :class:`~csdomain.store.spi.ProjectingTransaction` hands the core the
members it asks for; one without it has the core pick them from whole documents. Either
way, what ``scan_fields`` streams must equal the same fields picked from what ``scan``
streams with the same arguments: the same rows, in the same order and page, each value
of the model's own type, ``None`` where the document holds ``None``; inside a unit of
work's snapshot, with its own writes.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import orjson
import pytest

from csdomain.errors import ValidationError
from csdomain.store import Index, Kind, Repository, Row
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import (
    HOSTILE_STRINGS,
    SPECIMENS,
    T0,
    specimen,
)


__all__ = ["PARCELS", "FieldChecks", "Parcel", "ParcelState", "Sender", "Stop", "parcel"]


class ParcelState(enum.Enum):
    """A parcel's state (a string-valued enum)."""

    WAITING = "waiting"
    MOVING = "moving"
    ARRIVED = "arrived"


@attrs.frozen
class Stop:
    """One stop on a parcel's way."""

    place: str
    at: datetime
    minutes: int | None = None


@attrs.frozen
class Sender:
    """Who sent a parcel."""

    name: str
    since: datetime | None = None


@attrs.frozen
class Parcel:
    """A document with nested and list fields, flags, enums and optional values."""

    id: str
    state: ParcelState
    weight: int
    sender: Sender | None
    stops: tuple[Stop, ...] = ()
    fragile: bool | None = None
    price: Decimal = Decimal("0.00")
    wait: timedelta = timedelta(0)
    codes: dict[str, int] = attrs.field(factory=dict)


PARCELS: Kind[Parcel] = Kind("kit_parcel", Parcel, indexes=["state", Index("weight", "integer")])

#: Field paths of specimens the checks read (every field, two of them twice).
_SPECIMEN_FIELDS = ("id", "label", "group", "rank", "score", "at", "amount", "tags", "note")
#: Field paths of parcels, nested and list ones included.
_PARCEL_FIELDS = (
    "id",
    "state",
    "sender",
    "sender.name",
    "sender.since",
    "stops",
    "stops.place",
    "stops.minutes",
    "fragile",
    "price",
    "wait",
    "codes",
    "weight",
)
_STATES = list(ParcelState)


def parcel(n: int) -> Parcel:
    """A deterministic parcel number ``n`` (some without a sender, stops or flag)."""
    sender = None if n % 4 == 0 else Sender(f"sender {n % 3}", None if n % 2 else T0)
    stops = tuple(
        Stop(f"hub {k}", T0 + timedelta(hours=n + k), None if k % 2 else k * 10)
        for k in range(n % 4)
    )
    return Parcel(
        id=f"p{n:05d}",
        state=_STATES[n % 3],
        weight=n % 5,
        sender=sender,
        stops=stops,
        fragile=(None, True, False)[n % 3],
        price=Decimal(f"{n}.{n % 100:02d}"),
        wait=timedelta(seconds=n * 1.5),
        codes={} if n % 2 else {"a": n, "b": -n},
    )


def _picked(objects: Sequence[Any], fields: Sequence[str]) -> list[tuple[Any, ...]]:
    """``fields`` of each object picked by hand (a path through a tuple maps its items)."""

    def pick(value: Any, parts: Sequence[str]) -> Any:
        if not parts or value is None:
            return value
        if isinstance(value, tuple):
            return tuple(pick(item, parts) for item in value)
        return pick(getattr(value, parts[0]), parts[1:])

    return [tuple(pick(obj, f.split(".")) for f in fields) for obj in objects]


def _same(found: list[tuple[Any, ...]], expected: list[tuple[Any, ...]], what: str) -> None:
    assert found == expected, f"scan_fields {what} differs from the fields of scan"
    for row, wanted in zip(found, expected, strict=True):
        for value, model in zip(row, wanted, strict=True):
            assert type(value) is type(model), (
                f"scan_fields {what}: {type(value).__name__} where the model holds "
                f"{type(model).__name__}"
            )


def _compare(repo: Repository[Any], fields: Sequence[str], **query: Any) -> list[Any]:
    """Check ``scan_fields(fields, **query)`` against ``scan(**query)``; the scanned objects."""
    objects = list(repo.scan(**query))
    found = list(repo.scan_fields(fields, **query))
    _same(found, _picked(objects, fields), f"{list(fields)} {query}")
    return objects


class FieldChecks(KitBase):
    """``scan_fields``: equal to picking from whole documents, typed, in the snapshot."""

    def test_scan_fields_equals_the_fields_of_scan_under_filters_order_and_paging(self) -> None:
        items = [specimen(n, group=None if n % 5 == 0 else f"g{n % 3}") for n in range(1, 41)]
        with self.store() as store:
            self._add(store, *items)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                assert len(_compare(repo, _SPECIMEN_FIELDS)) == len(items)
                queries: list[dict[str, Any]] = [
                    {"group": "g1"},
                    {"group": None, "order_by": "-rank"},
                    {"rank__in": [1, 2, 3], "order_by": ["group", "-score"]},
                    {"at__lt": T0 + timedelta(minutes=20), "order_by": "-at", "limit": 5},
                    {"order_by": "label", "limit": 7, "offset": 9},
                    {"offset": 38},
                    {"limit": 0},
                    {"group__ne": "g2", "score__ge": 3.0, "order_by": "-cents"},
                    {"key__gt": "s000030"},
                ]
                for query in queries:
                    _compare(repo, _SPECIMEN_FIELDS, **query)
                _compare(repo, ("score",), order_by="-score")
                _compare(repo, ("rank", "id", "rank"), rank=4)
                rows = list(repo.scan_fields(["group"], order_by="group", limit=8))
                assert rows == [(None,)] * 8, "the groups that are None come first, as None"

    def test_a_long_result_streams_whole_and_in_order(self) -> None:
        items = [specimen(n) for n in range(1, 1204)]
        with self.store() as store:
            self._add(store, *items)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                _compare(repo, ("id", "score"), order_by="-score")
                _compare(repo, ("id", "rank"), order_by="rank", limit=1100, offset=50)
                _compare(repo, ("id", "at"), at__ge=T0 + timedelta(minutes=3), limit=700)

    def test_nested_list_and_optional_fields_read_as_the_model_holds_them(self) -> None:
        items = [parcel(n) for n in range(24)]
        with self.store() as store:
            with store.unit_of_work() as uow:
                uow.repo(PARCELS).add_many(items)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(PARCELS)
                _compare(repo, _PARCEL_FIELDS)
                _compare(repo, _PARCEL_FIELDS, state="moving", order_by="-weight")
                _compare(repo, ("stops.at", "sender.since", "id"), weight__in=[0, 3], limit=4)
                row = next(repo.scan_fields(["stops.place", "sender.name"], key="p00003"))
                assert row == (("hub 0", "hub 1", "hub 2"), "sender 0")
                assert next(repo.scan_fields(["sender.name"], key="p00004")) == (None,)

    def test_a_document_written_before_a_field_existed_reads_its_default(self) -> None:
        with self.store() as store:
            if store.backend.stores_objects:
                pytest.skip("the backend keeps objects: a stored one has every field")
            with store.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                rows = []
                for n in (1, 2):
                    row = repo.row(specimen(n, note="kept"))
                    held = orjson.loads(row.doc)
                    del held["note"], held["tags"]  # fields with defaults, added later
                    rows.append(Row(row.key, orjson.dumps(held), row.index))
                uow.tx.insert(SPECIMENS.name, rows)
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                objects = _compare(repo, ("id", "note", "tags", "rank"))
                assert [(s.note, s.tags) for s in objects] == [("", frozenset())] * 2

    def test_every_hostile_text_reads_back_verbatim_through_scan_fields(self) -> None:
        items = [specimen(n, note=text) for n, text in enumerate(HOSTILE_STRINGS)]
        with self.store() as store:
            self._add(store, *items)
            with store.unit_of_work(readonly=True) as uow:
                found = list(uow.repo(SPECIMENS).scan_fields(["id", "note"]))
        assert found == [(s.id, s.note) for s in items]

    def test_a_unit_of_work_reads_its_own_writes_and_a_reader_its_snapshot(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1), specimen(2))
            with store.unit_of_work(readonly=True) as reader:
                seen = reader.repo(SPECIMENS)
                assert list(seen.scan_fields(["id", "rank"])) == [("s000001", 1), ("s000002", 2)]
                with store.unit_of_work() as writer:
                    repo = writer.repo(SPECIMENS)
                    repo.update(attrs.evolve(repo.get("s000001"), rank=9))
                    repo.delete("s000002")
                    repo.add(specimen(3))
                    assert list(repo.scan_fields(["id", "rank"])) == [
                        ("s000001", 9),
                        ("s000003", 3),
                    ]
                assert list(seen.scan_fields(["id", "rank"])) == [("s000001", 1), ("s000002", 2)]
            with store.unit_of_work(readonly=True) as uow:
                assert list(uow.repo(SPECIMENS).scan_fields(["id", "rank"], order_by="-rank")) == [
                    ("s000001", 9),
                    ("s000003", 3),
                ]

    def test_unknown_fields_are_a_validation_error_naming_the_field(self) -> None:
        with self.store() as store:
            self._add(store, specimen(1))
            with store.unit_of_work(readonly=True) as uow:
                repo = uow.repo(SPECIMENS)
                refused: list[tuple[Any, str]] = [
                    (["id", "colour"], "fields.1"),
                    (["amount.colour"], "fields.0"),
                    (["label.length"], "fields.0"),
                    (["id", "at."], "fields.1"),
                    (["id", 3], "fields.1"),
                    ([], "fields"),
                    ("id", "fields"),
                ]
                for fields, path in refused:
                    with pytest.raises(ValidationError) as caught:
                        repo.scan_fields(fields)
                    assert caught.value.errors[0][0] == path, f"scan_fields({fields!r})"
                with pytest.raises(ValidationError):
                    repo.scan_fields(["id"], colour="red")
                with pytest.raises(ValidationError):
                    repo.scan_fields(["id"], limit=-1)
