"""The outbox: domain events written in the same transaction as the change they report.

:meth:`UnitOfWork.emit <csdomain.store.UnitOfWork.emit>` writes an :class:`OutboxEntry`
whose id sorts by time, then unit of work, then place in it; the dispatcher turns pending
entries into messages.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import attrs

from csdomain.clock import require_aware
from csdomain.events import Event, event_type
from csdomain.serialization import structure
from csdomain.store.schema import KINDS, Kind


__all__ = ["OUTBOX", "OutboxEntry", "outbox_id", "random_token"]


@attrs.frozen
class OutboxEntry:
    """A domain event waiting to be turned into messages, written with the change itself."""

    id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    status: str = "pending"
    processed_at: datetime | None = None
    #: Why the entry could not become messages (status ``failed``).
    error: str | None = None

    def event(self) -> Event:
        """The event object this entry holds."""
        return structure(self.payload, event_type(self.type))

    def processed(self, at: datetime) -> OutboxEntry:
        """The entry marked as turned into messages."""
        return attrs.evolve(self, status="processed", processed_at=require_aware(at))

    def failed(self, at: datetime, error: str) -> OutboxEntry:
        """The entry marked as impossible to turn into messages, keeping the reason."""
        return attrs.evolve(
            self, status="failed", processed_at=require_aware(at), error=error[:1000]
        )


OUTBOX: Kind[OutboxEntry] = KINDS.register(
    Kind(
        "outbox",
        OutboxEntry,
        indexes=["status", "type", "created_at"],
        composite=(("status", "created_at"),),
        attribute="outbox",
    )
)


def random_token() -> str:
    """Twelve random hex digits: the default unit-of-work token of a store (48 random
    bits from the operating system, as the first twelve digits of a UUID 4 hold)."""
    return os.urandom(6).hex()


def outbox_id(at: datetime, token: str, seq: int) -> str:
    """Time, then the unit of work, then the event's place in it: ids sort as emitted."""
    m = at.astimezone(UTC)
    stamp = f"{m.year:04d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}"
    return f"{stamp}{m.microsecond:06d}-{token}-{seq:06d}"
