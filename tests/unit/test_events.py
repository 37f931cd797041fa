"""Domain events register themselves by name (csdomain.events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import attrs
import pytest

from csdomain.errors import ValidationError
from csdomain.events import Event, event_type, event_types
from csdomain.money import Money
from csdomain.serialization import from_json, to_json


@attrs.frozen
class KernelTestParcelWeighed(Event):
    """An event only these tests define."""

    parcel_id: str
    grams: int
    at: datetime


@attrs.frozen
class KernelTestRefundPaid(Event):
    """An event with a type name of its own choosing."""

    type_name: ClassVar[str] = "kernel_test.refund_paid"

    refund_id: str
    amount: Money


def test_subclasses_register_under_their_class_name() -> None:
    assert KernelTestParcelWeighed.type_name == "KernelTestParcelWeighed"
    assert event_type("KernelTestParcelWeighed") is KernelTestParcelWeighed


def test_a_subclass_may_choose_its_type_name() -> None:
    assert event_type("kernel_test.refund_paid") is KernelTestRefundPaid
    assert "KernelTestRefundPaid" not in event_types()


def test_event_types_is_a_copy_of_the_registry() -> None:
    registry = event_types()
    registry.pop("KernelTestParcelWeighed")
    assert event_type("KernelTestParcelWeighed") is KernelTestParcelWeighed
    assert event_types()["KernelTestParcelWeighed"] is KernelTestParcelWeighed


def test_unknown_event_type_is_a_validation_error_at_type() -> None:
    with pytest.raises(ValidationError, match="unknown event type") as err:
        event_type("KernelTestNeverDefined")
    assert err.value.errors[0][0] == "type"


def test_two_event_classes_cannot_share_a_name() -> None:
    with pytest.raises(ValidationError, match="already registered"):

        @attrs.frozen
        class KernelTestParcelWeighed(Event):
            parcel_id: str

    assert event_type("KernelTestParcelWeighed").__module__ == __name__
    assert event_type("KernelTestParcelWeighed").__qualname__ == "KernelTestParcelWeighed"


def test_an_explicit_type_name_cannot_reuse_another_events_name() -> None:
    with pytest.raises(ValidationError, match="already registered"):

        @attrs.frozen
        class KernelTestOther(Event):
            type_name: ClassVar[str] = "kernel_test.refund_paid"

    assert event_type("kernel_test.refund_paid") is KernelTestRefundPaid


def test_events_round_trip_through_json_by_type_name() -> None:
    event = KernelTestRefundPaid("R-1", Money.of("12.30", "CNY"))
    restored = from_json(event_type(event.type_name), to_json(event))
    assert restored == event
    weighed = KernelTestParcelWeighed("P-1", 1200, datetime(2026, 1, 1, tzinfo=UTC))
    assert from_json(event_type("KernelTestParcelWeighed"), to_json(weighed)) == weighed


def test_type_name_is_not_part_of_the_payload() -> None:
    event = KernelTestRefundPaid("R-1", Money.of("1", "CNY"))
    assert b"type_name" not in to_json(event)
