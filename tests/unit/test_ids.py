"""Naming series: readable reference numbers with per-period counters (csdomain.ids)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.ids import CounterSource, NamingSeries
from csdomain.store import open_store
from csdomain.testing.strategies_kernel import aware_datetimes


SHANGHAI = ZoneInfo("Asia/Shanghai")
ORDER_SERIES = "SO-{yyyy}{mm}-{seq:04d}"


class DictCounters:
    """A counter source kept in a dict, like a unit of work's counters."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def next_counter(self, name: str) -> int:
        self.values[name] += 1
        return self.values[name]


def test_render_fills_date_fields_and_the_zero_padded_number() -> None:
    series = NamingSeries(ORDER_SERIES)
    at = datetime(2026, 11, 3, 10, tzinfo=SHANGHAI)
    assert series.render(1, at) == "SO-202611-0001"
    assert series.render(12345, at) == "SO-202611-12345"


def test_two_digit_year_and_day_fields() -> None:
    series = NamingSeries("J{yy}{mm}{dd}-{seq:03d}", tz="UTC")
    assert series.render(7, datetime(2026, 1, 5, tzinfo=UTC)) == "J260105-007"


def test_series_key_changes_with_the_month_so_numbers_restart_monthly() -> None:
    series = NamingSeries(ORDER_SERIES)
    november = datetime(2026, 11, 15, tzinfo=SHANGHAI)
    december = datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert series.series_key(november) != series.series_key(december)
    assert series.series_key(november) == series.series_key(datetime(2026, 11, 30, tzinfo=SHANGHAI))
    counters = DictCounters()
    assert series.next(counters, november) == "SO-202611-0001"
    assert series.next(counters, november) == "SO-202611-0002"
    assert series.next(counters, december) == "SO-202612-0001"


def test_the_month_is_taken_in_the_series_time_zone() -> None:
    late_november_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert NamingSeries(ORDER_SERIES).render(1, late_november_utc) == "SO-202612-0001"
    assert NamingSeries(ORDER_SERIES, tz="UTC").render(1, late_november_utc) == "SO-202611-0001"
    assert NamingSeries(ORDER_SERIES).series_key(late_november_utc) != NamingSeries(
        ORDER_SERIES, tz="UTC"
    ).series_key(late_november_utc)


def test_each_department_counts_separately() -> None:
    series = NamingSeries("{dept}-{yyyy}{mm}-{seq:03d}")
    at = datetime(2026, 11, 3, tzinfo=SHANGHAI)
    counters = DictCounters()
    assert series.next(counters, at, dept="CS") == "CS-202611-001"
    assert series.next(counters, at, dept="CS") == "CS-202611-002"
    assert series.next(counters, at, dept="QA") == "QA-202611-001"
    assert series.series_key(at, dept="CS") != series.series_key(at, dept="QA")


def test_customer_code_series_from_the_documents() -> None:
    series = NamingSeries("{city}-{yyyy}{mm}-{name}-{seq:03d}")
    at = datetime(2026, 3, 9, tzinfo=SHANGHAI)
    assert series.next(DictCounters(), at, city="SH", name="华东生物") == "SH-202603-华东生物-001"


def test_fields_whose_names_start_with_seq_are_ordinary_fields() -> None:
    series = NamingSeries("{sequence}-{seq}")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert series.render(3, at, sequence="A") == "A-3"
    assert series.series_key(at, sequence="A") != series.series_key(at, sequence="B")


def test_escaped_braces_are_literal_text() -> None:
    series = NamingSeries("{{seq}}-{seq}")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert series.render(3, at) == "{seq}-3"
    assert series.next(DictCounters(), at) == "{seq}-1"


def test_field_values_that_do_not_fit_their_format_are_refused() -> None:
    series = NamingSeries("{dept:03d}-{seq}")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert series.render(1, at, dept=7) == "007-1"
    with pytest.raises(ValidationError) as err:
        series.next(DictCounters(), at, dept="CS")
    assert err.value.errors[0][0] == "dept"


def test_missing_fields_are_reported_by_name() -> None:
    series = NamingSeries("{city}-{dept}-{seq}")
    with pytest.raises(ValidationError) as err:
        series.render(1, datetime(2026, 1, 1, tzinfo=UTC), city="SH")
    assert err.value.errors == [("dept", "required by the naming series")]
    with pytest.raises(ValidationError) as err:
        series.next(DictCounters(), datetime(2026, 1, 1, tzinfo=UTC))
    assert [path for path, _ in err.value.errors] == ["city", "dept"]


@pytest.mark.parametrize(
    "pattern",
    [
        "SO-{yyyy}{mm}",
        "SO-{seq}-{seq}",
        "SO-{seq",
        "SO-{}-{seq}",
        "SO-{0}-{seq}",
        "SO-{dept.name}-{seq}",
        "SO-{seq:zz}",
        "SO-{yyyy:04d}-{seq}",
        "",
    ],
)
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError) as err:
        NamingSeries(pattern)
    assert err.value.errors[0][0] == "pattern"


def test_a_pattern_must_be_a_string() -> None:
    with pytest.raises(ValidationError):
        NamingSeries(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("tz", ["Mars/Base", "", "not a zone"])
def test_unknown_time_zones_are_refused(tz: str) -> None:
    with pytest.raises(ValidationError) as err:
        NamingSeries(ORDER_SERIES, tz=tz)
    assert err.value.errors[0][0] == "tz"


@pytest.mark.parametrize("seq", [0, -1, True, "1", 1.0])
def test_render_refuses_non_positive_or_non_integer_numbers(seq: object) -> None:
    with pytest.raises(ValidationError) as err:
        NamingSeries(ORDER_SERIES).render(seq, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert err.value.errors[0][0] == "seq"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError):
        NamingSeries(ORDER_SERIES).series_key(datetime(2026, 1, 1))


def test_dict_counters_satisfy_the_counter_source_protocol() -> None:
    counters: CounterSource = DictCounters()
    assert counters.next_counter("x") == 1


def test_next_with_a_real_store_counts_per_month_and_survives_commits() -> None:
    series = NamingSeries(ORDER_SERIES)
    at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    store = open_store("memory://")
    with store.unit_of_work() as uow:
        assert series.next(uow, at) == "SO-202612-0001"
        assert series.next(uow, at) == "SO-202612-0002"
        assert series.next(uow, datetime(2026, 11, 2, tzinfo=SHANGHAI)) == "SO-202611-0001"
    with store.unit_of_work() as uow:
        assert series.next(uow, at) == "SO-202612-0003"


def test_a_rolled_back_unit_of_work_does_not_use_up_a_number() -> None:
    series = NamingSeries(ORDER_SERIES)
    at = datetime(2026, 12, 3, tzinfo=SHANGHAI)
    store = open_store("memory://")

    def take_a_number_then_fail() -> None:
        with store.unit_of_work() as uow:
            assert series.next(uow, at) == "SO-202612-0001"
            raise RuntimeError

    with pytest.raises(RuntimeError):
        take_a_number_then_fail()
    with store.unit_of_work() as uow:
        assert series.next(uow, at) == "SO-202612-0001"


@given(aware_datetimes(), st.lists(st.sampled_from(["CS", "QA", "WH"]), max_size=20))
def test_numbers_are_unique_and_consecutive_per_series_key(
    at: datetime, departments: list[str]
) -> None:
    series = NamingSeries("{dept}-{yyyy}{mm}-{seq:04d}")
    counters = DictCounters()
    issued = [series.next(counters, at, dept=dept) for dept in departments]
    assert len(set(issued)) == len(issued)
    for dept in set(departments):
        mine = [number for number in issued if number.startswith(f"{dept}-")]
        assert [int(number.rsplit("-", 1)[1]) for number in mine] == list(range(1, len(mine) + 1))


@given(aware_datetimes())
def test_rendered_date_fields_are_the_local_year_and_month(at: datetime) -> None:
    local = at.astimezone(SHANGHAI)
    assert NamingSeries(ORDER_SERIES).render(1, at) == f"SO-{local:%Y%m}-0001"


@given(st.text(max_size=30), st.sampled_from(["UTC", "Asia/Shanghai"]) | st.text(max_size=12))
def test_any_pattern_and_zone_is_accepted_or_refused_with_validation_error(
    pattern: str, tz: str
) -> None:
    try:
        series = NamingSeries(pattern, tz=tz)
    except ValidationError:
        return
    assert series.fields.count("seq") == 1


@given(st.lists(st.text(max_size=6), min_size=1, max_size=8))
def test_each_field_value_counts_on_its_own(departments: list[str]) -> None:
    series = NamingSeries("{dept}/{seq}")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    counters = DictCounters()
    issued: Counter[str] = Counter()
    for dept in departments:
        issued[dept] += 1
        assert series.next(counters, at, dept=dept) == f"{dept}/{issued[dept]}"


def test_an_uncounted_field_is_written_but_shares_the_counter() -> None:
    # the customer code: the serial counts per city and month, the name is not counted
    series = NamingSeries("{city}-{yyyy}{mm}-{name}-{seq:03d}", uncounted=("name",))
    at = datetime(2026, 11, 3, tzinfo=SHANGHAI)
    counters = DictCounters()
    assert series.next(counters, at, city="Wuhan", name="Huake") == "Wuhan-202611-Huake-001"
    assert series.next(counters, at, city="Wuhan", name="Keda") == "Wuhan-202611-Keda-002"
    assert series.series_key(at, city="Wuhan", name="Huake") == "series:Wuhan-202611-*-#"
    assert series.counted_prefix(at, city="Wuhan", name="Keda") == "Wuhan-202611-"
    assert NamingSeries(ORDER_SERIES).counted_prefix(at) == "SO-202611-"


def test_only_a_named_field_can_go_uncounted() -> None:
    for bad in ("seq", "mm", "dept"):
        with pytest.raises(ValidationError) as info:
            NamingSeries("{city}-{mm}-{name}-{seq:03d}", uncounted=(bad,))
        assert [path for path, _ in info.value.errors] == ["uncounted"]
