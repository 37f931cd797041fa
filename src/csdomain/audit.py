"""Who read which customer file, and when (docs/domain.md 1: nobody reads a customer file
without permission).

Every read of a customer file through the service desk leaves an :class:`AccessRecord`;
``ServiceDesk.access_log(customer_id)`` lists them.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.clock import utc
from csdomain.validators import aware as _aware
from csdomain.validators import not_blank as _not_blank
from csdomain.validators import text


__all__ = ["AccessRecord", "access_record", "access_record_id"]


@attrs.frozen
class AccessRecord:
    """One read of a customer file: who, when, which customer and for what."""

    id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    actor_id: str = attrs.field(validator=_not_blank)
    at: datetime = attrs.field(validator=_aware)
    purpose: str = attrs.field(default="", validator=text)


def access_record_id(at: datetime, token: str) -> str:
    """``AR-<UTC time to the microsecond>-<token>``: records sort by time of access."""
    return f"AR-{utc(at):%Y%m%d%H%M%S%f}-{token}"


def access_record(
    customer_id: str, *, by: str, at: datetime, purpose: str, token: str
) -> AccessRecord:
    """The record of one read of ``customer_id`` by ``by`` at ``at`` (docs/domain.md 1)."""
    return AccessRecord(
        id=access_record_id(at, token),
        customer_id=customer_id,
        actor_id=by,
        at=at,
        purpose=purpose,
    )
