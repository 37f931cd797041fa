"""Who read which customer file, and when (DOMAIN.md 1: nobody reads a customer file
without permission).

Every read of a customer file through the service desk leaves an :class:`AccessRecord`;
``ServiceDesk.access_log(customer_id)`` lists them.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from csdomain.validators import aware as _aware


__all__ = ["AccessRecord"]


@attrs.frozen
class AccessRecord:
    """One read of a customer file: who, when, which customer and for what."""

    id: str
    customer_id: str
    actor_id: str
    at: datetime = attrs.field(validator=_aware)
    purpose: str = ""
