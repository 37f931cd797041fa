"""What the conformance kit stores: its document types, their kinds and hostile inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from csdomain.events import Event
from csdomain.money import Money
from csdomain.store import Index, Kind


__all__ = [
    "GADGETS",
    "HOSTILE_STRINGS",
    "LONE_SURROGATE",
    "NOT_UNICODE",
    "ODD_KEYS",
    "SPECIMENS",
    "T0",
    "Gadget",
    "Specimen",
    "SpecimenRecorded",
    "specimen",
]

#: The moment every specimen's times count from.
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen
class Specimen:
    """The document type the kit stores: every kind of field a model can have."""

    id: str
    label: str
    group: str | None
    rank: int
    score: float
    at: datetime
    amount: Money
    tags: frozenset[str] = frozenset()
    note: str = ""


@attrs.frozen
class Gadget:
    """A second document type, whose kind shares key values and index names with specimens."""

    id: str
    label: str
    rank: int


@attrs.frozen
class SpecimenRecorded(Event):
    """The event the kit writes to the outbox."""

    specimen_id: str
    at: datetime


SPECIMENS: Kind[Specimen] = Kind(
    "kit_specimen",
    Specimen,
    indexes=[
        "label",
        "group",
        Index("rank", "integer"),
        Index("score", "real"),
        "at",
        Index("cents", "integer", lambda s: int(s.amount.amount * 100)),
    ],
    composite=(("group", "rank"),),
)

#: A second kind: the same keys and index names must never mix with the specimens'.
GADGETS: Kind[Gadget] = Kind("kit_gadget", Gadget, indexes=["label", Index("rank", "integer")])

#: Strings every backend must store verbatim (or refuse with ValidationError, never mangle).
HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    "'; DROP TABLE k_kit_specimen; --",
    'Robert"); DELETE FROM csdomain_counters; --',
    "nul\x00inside",
    "\u202eRTL override\u202c and \u200f marks",
    "客户投诉 😀👍🏽 emoji and 中文",
    "percent % underscore _ backslash \\ quote ' dquote \"",
    "line\nbreak\r\ntab\t",
    "\ufeffBOM and \u2028 separators",
    "x" * 1_000_000,
)

#: Text that is not valid Unicode: the core refuses it before a backend sees it.
LONE_SURROGATE = "broken \ud800 surrogate"
#: The core's message for it.
NOT_UNICODE = "text that is not valid Unicode (surrogates not allowed)"

#: Keys whose code-point order differs from most collations' order.
ODD_KEYS: tuple[str, ...] = ("B", "_", "a", "a\x00", "a\x01", "b", "Ä", "é", "客", "😀")


def specimen(
    n: int, *, label: str | None = None, group: str | None = "g", note: str = ""
) -> Specimen:
    """A deterministic specimen number ``n``."""
    return Specimen(
        id=f"s{n:06d}",
        label=label if label is not None else f"label-{n % 7}",
        group=group,
        rank=n % 10,
        score=n / 4,
        at=T0 + timedelta(minutes=n),
        amount=Money.of(f"{n}.{n % 100:02d}", "CNY"),
        tags=frozenset({f"t{n % 3}", "all"}),
        note=note,
    )
