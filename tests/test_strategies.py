"""The public strategies: registered for st.from_type, valid, and round-trip through JSON."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.calendar import BusinessCalendar
from csdomain.complaints import Complaint
from csdomain.money import Money
from csdomain.notify import Message
from csdomain.orders import Order
from csdomain.satisfaction import SurveyResponse
from csdomain.serialization import from_json, to_json
from csdomain.testing import strategies
from csdomain.warranty import WarrantyClaimCase


@pytest.mark.parametrize(
    "cls", [Money, BusinessCalendar, Order, Complaint, WarrantyClaimCase, SurveyResponse, Message]
)
def test_from_type_works_for_public_models_through_the_entry_point(cls: type[Any]) -> None:
    @settings(max_examples=5)
    @given(st.from_type(cls))
    def check(value: Any) -> None:
        assert isinstance(value, cls)
        assert from_json(cls, to_json(value)) == value

    check()


def test_every_exported_strategy_returns_a_strategy() -> None:
    for name in strategies.__all__:
        made = getattr(strategies, name)()
        assert isinstance(made, st.SearchStrategy), name
