"""How a complaint is classified (docs/domain.md 3.1): channel, urgency, nature, cause category.

The vocabulary every other complaint module uses, so it depends on nothing else of them.
"""

from __future__ import annotations

from enum import StrEnum


__all__ = ["ComplaintCategory", "ComplaintChannel", "ComplaintNature", "ComplaintUrgency"]


class ComplaintChannel(StrEnum):
    """How the complaint came in: in person, written, phone (plus e-mail, online)."""

    IN_PERSON = "in_person"
    WRITTEN = "written"
    PHONE = "phone"
    EMAIL = "email"
    ONLINE = "online"


class ComplaintUrgency(StrEnum):
    """Urgency (时效): special (特级), urgent (紧急), ordinary (普通)."""

    SPECIAL = "special"
    URGENT = "urgent"
    ORDINARY = "ordinary"


class ComplaintNature(StrEnum):
    """Nature: normal, or abnormal (demands beyond law, policy, custom or agreement)."""

    NORMAL = "normal"
    ABNORMAL = "abnormal"


class ComplaintCategory(StrEnum):
    """Cause category: product quality, service, or one of the delivery problems."""

    PRODUCT_QUALITY = "product_quality"
    SERVICE = "service"
    DELIVERY_PACKAGING = "delivery_packaging"
    DELIVERY_DELAY = "delivery_delay"
    DELIVERY_QUANTITY = "delivery_quantity"
    DELIVERY_CONTENT = "delivery_content"
    OTHER = "other"
