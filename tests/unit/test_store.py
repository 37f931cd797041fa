"""Store kernel rules that hold on every backend: index values and unit-of-work bookkeeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import attrs
import pytest

from csdomain.errors import ValidationError
from csdomain.store import Index, Kind, KindRegistry, Store, normalize_index_value, open_store


def test_index_datetimes_are_fixed_width_utc_text_so_text_order_is_time_order() -> None:
    """Rule: a datetime index value is a fixed-width UTC ISO string, for every year."""
    moments = [
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 3, 1, 1, 0, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    texts = [normalize_index_value(m) for m in moments]
    assert texts[0] == "0999-01-01T00:00:00.000000+00:00"
    assert texts[1] == "2026-03-01T00:00:00.000000+00:00"
    assert {len(t) for t in texts if isinstance(t, str)} == {32}
    assert texts == sorted(texts)


def test_index_values_refuse_naive_datetimes_and_unindexable_values() -> None:
    """Rule: bad input gets a ValidationError with the bad field's path."""
    with pytest.raises(ValidationError) as caught:
        normalize_index_value(datetime(2026, 1, 1), "placed_at")
    assert caught.value.errors[0][0] == "placed_at"
    with pytest.raises(ValidationError, match="cannot index a bytes value"):
        normalize_index_value(b"x", "blob")
    assert normalize_index_value(value=True) == 1
    assert normalize_index_value(date(2026, 1, 2)) == "2026-01-02"


@attrs.frozen
class _Thing:
    id: str
    size: int
    label: str = ""
    at: datetime | None = None


_THINGS = Kind("thing", _Thing, indexes=[Index("size", "integer"), "at"])
_MISDECLARED = Kind("misdeclared", _Thing, indexes=[Index("label", "integer")])


def test_an_index_value_of_the_wrong_column_type_is_refused_at_add() -> None:
    """Rule: a stored document's index values match their declared column types."""
    kinds = KindRegistry()
    kinds.register(_THINGS)
    kinds.register(_MISDECLARED)
    with Store(open_store("memory://").backend, kinds=kinds) as store:
        with pytest.raises(ValidationError) as caught, store.unit_of_work() as uow:
            uow.repo(_MISDECLARED).add(_Thing("a", 1, "big"))
        assert caught.value.errors == [("label", "index 'label' holds integer values, got str")]
        with store.unit_of_work() as uow:
            uow.repo(_THINGS).add(_Thing("b", 3, datetime(2026, 1, 1, tzinfo=UTC)))
        with store.unit_of_work(readonly=True) as uow:
            assert [t.id for t in uow.repo(_THINGS).find(size=3)] == ["b"]
            assert uow.repo(_THINGS).count() == 1


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_a_read_only_scan_keeps_no_per_row_bookkeeping(url: str) -> None:
    """Rule: streaming a kind in a read-only unit of work uses bounded memory."""
    kinds = KindRegistry()
    kinds.register(_THINGS)
    with Store(open_store(url).backend, kinds=kinds) as store:
        with store.unit_of_work() as uow:
            uow.repo(_THINGS).add_many(_Thing(f"t{n}", n) for n in range(300))
        with store.unit_of_work(readonly=True) as uow:
            assert sum(1 for _ in uow.repo(_THINGS).scan()) == 300
            uow.repo(_THINGS).get("t1")
            assert uow.versions == {}
        with store.unit_of_work() as uow:
            assert sum(1 for _ in uow.repo(_THINGS).scan(size__lt=10)) == 10
            assert len(uow.versions) == 10
