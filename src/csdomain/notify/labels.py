"""The words for the coded values events carry (a status, a shipping mode), in each language.

A template placeholder whose event field holds an enum value (``{to_status}``,
``{mode}``) shows the value's label: :data:`VALUE_LABELS` maps ``(enum class name, value)``
to the English label and its ``msgctxt`` (the enum's name), translated through the
catalogs. A value not listed shows its code with spaces (``on_hold`` -> ``on hold``).
Keyed by names, not classes, so this module imports no domain area.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from csdomain.i18n import NP_, Translator


__all__ = ["VALUE_LABELS", "value_label"]


#: ``(enum class name, value)`` -> ``(msgctxt, English label)``.
VALUE_LABELS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("ComplaintStatus", "received"): NP_("ComplaintStatus", "received"),
    ("ComplaintStatus", "assessed"): NP_("ComplaintStatus", "assessed"),
    ("ComplaintStatus", "rejected"): NP_("ComplaintStatus", "not upheld"),
    ("ComplaintStatus", "investigating"): NP_("ComplaintStatus", "under investigation"),
    ("ComplaintStatus", "resolution_proposed"): NP_("ComplaintStatus", "resolution proposed"),
    ("ComplaintStatus", "resolution_approved"): NP_("ComplaintStatus", "resolution approved"),
    ("ComplaintStatus", "resolved"): NP_("ComplaintStatus", "resolved"),
    ("ComplaintStatus", "followed_up"): NP_("ComplaintStatus", "followed up"),
    ("ComplaintStatus", "closed"): NP_("ComplaintStatus", "closed"),
    ("ComplaintStatus", "on_hold"): NP_("ComplaintStatus", "on hold"),
    ("ShippingMode", "express"): NP_("ShippingMode", "express delivery"),
    ("ShippingMode", "logistics"): NP_("ShippingMode", "logistics freight"),
    ("ShippingMode", "rail"): NP_("ShippingMode", "rail freight"),
    ("ServiceOrderKind", "installation"): NP_("ServiceOrderKind", "installation"),
    ("ServiceOrderKind", "user_training"): NP_("ServiceOrderKind", "user training"),
    ("ServiceOrderKind", "repair"): NP_("ServiceOrderKind", "repair"),
    ("ServiceOrderKind", "planned_maintenance"): NP_("ServiceOrderKind", "planned maintenance"),
    ("ServiceOrderKind", "inspection"): NP_("ServiceOrderKind", "inspection"),
    ("ServiceOrderKind", "return_to_factory"): NP_("ServiceOrderKind", "factory repair"),
    ("EscalationReason", "response_overdue"): NP_("EscalationReason", "response overdue"),
    ("EscalationReason", "resolution_overdue"): NP_("EscalationReason", "resolution overdue"),
    ("EscalationReason", "still_overdue"): NP_("EscalationReason", "still overdue"),
    ("EscalationReason", "customer_unhappy"): NP_("EscalationReason", "customer unhappy"),
    ("EscalationReason", "manual"): NP_("EscalationReason", "escalated by hand"),
}


def value_label(value: Enum, translator: Translator) -> str:
    """The label of an enum ``value`` in ``translator``'s language (English when untranslated)."""
    raw = str(value.value)
    entry = VALUE_LABELS.get((type(value).__name__, raw))
    if entry is None:
        return raw.replace("_", " ")
    context, label = entry
    if translator.has(label, context):
        return translator.pgettext(context, label)
    return label
