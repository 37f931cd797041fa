"""Who read which customer file, and when (DOMAIN.md 1: nobody reads a customer file
without permission).

Every read of a customer file through the service desk leaves an :class:`AccessRecord`;
``ServiceDesk.access_log(customer_id)`` lists them.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.clock import require_aware


__all__ = ["AccessRecord"]


def _aware(_instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    require_aware(value, attribute.name)


@attrs.frozen
class AccessRecord:
    """One read of a customer file: who, when, which customer and for what."""

    id: str
    customer_id: str
    actor_id: str
    at: datetime = attrs.field(validator=_aware)
    purpose: str = ""
