"""What happens at the customer's: dispatches, visit records, parts used, the sign-off.

A :class:`Dispatch` sends a technician with a time window; a :class:`VisitRecord` is the
service record (服务记录) of one visit: arrival and departure, the fault found and its
cause (which feeds the warranty exclusion rules: human damage, wrong installation,
unauthorised repair ...), the work done, the parts used, the labour time, attachment
references and whether the fault was cleared or parts are awaited. The customer's
:class:`SignOff` (signature and acceptance, with feedback) ends the work on site.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from csdomain.errors import ValidationError
from csdomain.fieldservice._checks import texts
from csdomain.validators import (
    as_tuple,
    aware,
    count,
    enum_value,
    flag,
    instance_of,
    not_blank,
    optional,
    optional_text,
    positive_int,
    text,
    tuple_of,
)
from csdomain.validators import (
    day as day_validator,
)
from csdomain.warranty import Cause, ServiceBom, SparePart


__all__ = ["Dispatch", "PartUse", "SignOff", "VisitRecord"]


@attrs.frozen(kw_only=True)
class Dispatch:
    """A technician sent to a job, with the time window booked for the visit."""

    technician_id: str = attrs.field(validator=not_blank)
    service_point_id: str = attrs.field(validator=not_blank)
    window_start: datetime = attrs.field(validator=aware)
    window_end: datetime = attrs.field(validator=aware)
    #: The local day of the visit on the technician's calendar (what the day plan counts).
    day: date = attrs.field(validator=day_validator)
    at: datetime = attrs.field(validator=aware)
    by: str = attrs.field(validator=not_blank)

    def __attrs_post_init__(self) -> None:
        if self.window_end <= self.window_start:
            raise ValidationError.at("window_end", "must be after window_start")


@attrs.frozen(kw_only=True)
class PartUse:
    """Parts used on a visit: the catalogue entry, how many, and the serials swapped.

    An assembled part is priced as its share of the product's service BOM (``bom``).
    """

    part: SparePart = attrs.field(validator=instance_of(SparePart))
    quantity: int = attrs.field(default=1, validator=positive_int)
    removed_serial: str | None = attrs.field(default=None, validator=optional_text)
    installed_serial: str | None = attrs.field(default=None, validator=optional_text)
    bom: ServiceBom | None = attrs.field(default=None, validator=optional(instance_of(ServiceBom)))

    @property
    def part_number(self) -> str:
        """The part number of the catalogue entry."""
        return self.part.part_number


def _cause(value: object) -> Cause:
    return enum_value(Cause, value, "cause")


@attrs.frozen(kw_only=True)
class VisitRecord:
    """The service record of one visit (服务记录), complete and true.

    ``parts_missing`` lists the part numbers the job waits for (then the fault is not
    cleared yet); ``attachments`` are references to photos, forms and documents kept
    elsewhere. ``certificate_altered`` and ``unauthorised_repair`` are what the
    technician found on the product, for the warranty rules.
    """

    technician_id: str = attrs.field(validator=not_blank)
    arrived_at: datetime = attrs.field(validator=aware)
    departed_at: datetime = attrs.field(validator=aware)
    fault_found: str = attrs.field(validator=text)
    cause: Cause = attrs.field(default=Cause.PERFORMANCE_FAULT, converter=_cause)
    work_done: str = attrs.field(validator=not_blank)
    parts: tuple[PartUse, ...] = attrs.field(
        default=(), converter=as_tuple, validator=tuple_of(PartUse)
    )
    labour_minutes: int = attrs.field(default=0, validator=count)
    attachments: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    fault_cleared: bool = attrs.field(default=True, validator=flag)
    parts_missing: tuple[str, ...] = attrs.field(default=(), converter=as_tuple, validator=texts)
    certificate_altered: bool = attrs.field(default=False, validator=flag)
    unauthorised_repair: bool = attrs.field(default=False, validator=flag)
    note: str = attrs.field(default="", validator=text)

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if self.departed_at < self.arrived_at:
            problems.append(("departed_at", "is before arrived_at"))
        if self.parts_missing and self.fault_cleared:
            problems.append(("fault_cleared", "a visit that waits for parts has not cleared it"))
        if problems:
            raise ValidationError(problems)


@attrs.frozen(kw_only=True)
class SignOff:
    """The customer's signature and acceptance of the work, with feedback (客户意见反馈)."""

    customer_name: str = attrs.field(validator=text)
    signature_ref: str = attrs.field(validator=text)
    accepted: bool = attrs.field(validator=flag)
    at: datetime = attrs.field(validator=aware)
    feedback: str = attrs.field(default="", validator=text)
    satisfied: bool | None = attrs.field(default=None, validator=optional(flag))
