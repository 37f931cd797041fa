"""Customer files: classes, contact data, human-readable codes and an append-only change log.

A :class:`Customer` is a frozen record (docs/domain.md 1, 客户档案). Every change made with
:meth:`Customer.change` is appended to :attr:`Customer.changes` with who, when, the old
and the new value, so a phone number, bank account, address or class is never silently
overwritten (客户信息变更查询). Customer codes follow the documents' format
``city - YYYYMM - name - 3-digit serial`` through a configurable naming series
(:class:`CustomerPolicy`). :func:`duplicate_contacts` warns when another customer has the
same phone number or bank account (相同电话号码/银行账号 → 预警); it returns a
:class:`DuplicateContactWarning` value and never merges anything.

Authority: :meth:`Customer.register` and :meth:`Customer.change` take ``by`` and the
:class:`~csdomain.auth.AccessPolicy` and check :data:`Permission.EDIT_CUSTOMER` themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission
from csdomain.calendar import QuietHours
from csdomain.clock import require_aware
from csdomain.errors import ValidationError, describe
from csdomain.events import Event
from csdomain.ids import CounterSource, NamingSeries
from csdomain.money import Money
from csdomain.validators import aware as _aware
from csdomain.validators import (
    day,
    enum_value,
    money,
    optional,
    optional_instance_of,
    optional_text,
    text,
    tuple_of,
)
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "CHANGEABLE_FIELDS",
    "Customer",
    "CustomerChanged",
    "CustomerClass",
    "CustomerFieldChange",
    "CustomerPolicy",
    "CustomerRegistered",
    "DuplicateContactWarning",
    "DuplicateMatch",
    "customer_events",
    "duplicate_contacts",
    "next_customer_code",
    "normalise_bank_account",
    "normalise_phone",
]


class CustomerClass(StrEnum):
    """Customer classes; service rules differ by class (docs/domain.md 1)."""

    ORDINARY = "ordinary"
    MEMBER = "member"
    VIP = "vip"
    DEALER = "dealer"
    AGENT = "agent"
    SPECIAL = "special"


@attrs.frozen
class CustomerPolicy:
    """Policy for customer files: the code series and phone normalisation (docs/domain.md 1)."""

    #: Customer code pattern: city - contact month (YYYYMM) - name - 3-digit serial.
    #: The serial counts the customers of the city and month; the name is not counted.
    code_pattern: str = "{city}-{yyyy}{mm}-{name}-{seq:03d}"
    #: Time zone in which the contact month is read.
    code_tz: str = "Asia/Shanghai"
    #: Country calling code stripped from phone numbers before they are compared.
    phone_country_code: str = "86"

    def __attrs_post_init__(self) -> None:
        self.code_series()
        if not self.phone_country_code.isdigit():
            raise ValidationError.at("phone_country_code", "must be digits only")

    def code_series(self) -> NamingSeries:
        """The :class:`~csdomain.ids.NamingSeries` that renders customer codes.

        ``{name}`` is written into the code but not counted: the serial counts the
        customers contacted in the city and month (docs/domain.md 1).
        """
        fields = NamingSeries(self.code_pattern, tz=self.code_tz).fields
        uncounted = ("name",) if "name" in fields else ()
        return NamingSeries(self.code_pattern, tz=self.code_tz, uncounted=uncounted)


def _code_part(value: str, path: str) -> str:
    part = " ".join(value.split())
    if not part:
        raise ValidationError.at(path, "must not be empty")
    return part


def next_customer_code(
    counters: CounterSource,
    *,
    at: datetime,
    city: str,
    name: str,
    policy: CustomerPolicy,
    codes_in_use: Callable[[str], int] | None = None,
) -> str:
    """Take the next customer code for ``city`` and ``name`` in the month of ``at``.

    Source: docs/domain.md 1, customer codes ``city - YYYYMM - name - 3-digit serial``,
    the serial counting the customers contacted in that city and month (Huake, then Keda
    in Wuhan in one month: ``-001``, ``-002``). ``counters`` is the unit of work (its
    store-backed counters).

    ``codes_in_use(prefix)`` says how many customer codes already start with the city and
    month part of the code (``"Wuhan-202611-"``). A store written while the serial still
    counted per name has no counter for the city and month yet: when its counter starts,
    the serial continues after the codes already given, so no code is handed out twice.
    """
    series = policy.code_series()
    fields = {"city": _code_part(city, "city"), "name": _code_part(name, "name")}
    key = series.series_key(at, **fields)
    seq = counters.next_counter(key)
    if seq == 1 and codes_in_use is not None:
        used = codes_in_use(series.counted_prefix(at, **fields))
        while seq <= used:
            seq = counters.next_counter(key)
    return series.render(seq, at, **fields)


_NON_DIGITS = re.compile(r"\D+")

#: How many trailing digits of a phone number the duplicate-check index keeps.
PHONE_TAIL_DIGITS = 8


def normalise_phone(phone: str, country_code: str = "86") -> str:
    """The digits of a phone number without country code or trunk ``0``, for comparison.

    ``"+86 (010) 8765-4321"``, ``"0086 10 87654321"`` and ``"010-87654321"`` all give
    ``"1087654321"``. Source: docs/domain.md 1, the same phone number on two customers is a
    warning.
    """
    digits = _NON_DIGITS.sub("", phone)
    if phone.strip().startswith("+") or digits.startswith("00" + country_code):
        digits = digits.removeprefix("00").removeprefix(country_code)
    elif len(digits) > 11 and digits.startswith(country_code):
        digits = digits.removeprefix(country_code)
    return digits.removeprefix("0")


def normalise_bank_account(account: str) -> str:
    """A bank account without spaces, dashes and letter case, for comparison."""
    return re.sub(r"[\s\-]+", "", account).upper()


def _email(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    text(_instance, attribute, value)
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        raise ValidationError.at(attribute.name, f"not an e-mail address: {describe(value)}")


def _phone(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    text(_instance, attribute, value)
    if value and not re.fullmatch(r"[0-9+()\-\s/.,extEXT#]*", value):
        raise ValidationError.at(attribute.name, f"not a phone number: {describe(value)}")
    if value and not _NON_DIGITS.sub("", value):
        msg = f"a phone number needs digits: {describe(value)}"
        raise ValidationError.at(attribute.name, msg)


def _customer_class(value: object) -> CustomerClass:
    return enum_value(CustomerClass, value, "customer_class")


@attrs.frozen
class CustomerFieldChange:
    """One recorded change of one field: who changed it, when, from what, to what."""

    field: str = attrs.field(validator=_not_blank)
    old: str | None = attrs.field(validator=optional_text)
    new: str | None = attrs.field(validator=optional_text)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=text)


#: The fields :meth:`Customer.change` may change (everything but the identity and the log).
CHANGEABLE_FIELDS: frozenset[str] = frozenset(
    {
        "customer_class",
        "name",
        "legal_representative",
        "phone",
        "fax",
        "email",
        "address",
        "postcode",
        "city",
        "bank_account",
        "business_scope",
        "registered_capital",
        "rest_hours",
        "birthday",
    }
)


def _display(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, QuietHours):
        return f"{value.start.isoformat()}-{value.end.isoformat()} {value.tz}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@attrs.frozen
class Customer:
    """A customer file (客户档案, docs/domain.md 1); changes are kept in ``changes``."""

    id: str = attrs.field(validator=_not_blank)
    code: str = attrs.field(validator=_not_blank)
    name: str = attrs.field(validator=_not_blank)
    customer_class: CustomerClass = attrs.field(
        default=CustomerClass.ORDINARY, converter=_customer_class
    )
    legal_representative: str = attrs.field(default="", validator=text)
    phone: str = attrs.field(default="", validator=_phone)
    fax: str = attrs.field(default="", validator=_phone)
    email: str = attrs.field(default="", validator=_email)
    address: str = attrs.field(default="", validator=text)
    postcode: str = attrs.field(default="", validator=text)
    city: str = attrs.field(default="", validator=text)
    bank_account: str = attrs.field(default="", validator=text)
    business_scope: str = attrs.field(default="", validator=text)
    registered_capital: Money | None = attrs.field(default=None, validator=optional(money))
    #: The customer's rest hours: nobody calls or messages them then (docs/domain.md 3.5, 7).
    rest_hours: QuietHours | None = attrs.field(
        default=None, validator=optional_instance_of(QuietHours)
    )
    birthday: date | None = attrs.field(default=None, validator=optional(day))
    created_at: datetime | None = attrs.field(default=None)
    created_by: str = attrs.field(default="", validator=text)
    changes: tuple[CustomerFieldChange, ...] = attrs.field(
        default=(), validator=tuple_of(CustomerFieldChange)
    )

    def __attrs_post_init__(self) -> None:
        if self.created_at is not None:
            require_aware(self.created_at, "created_at")

    @classmethod
    def register(
        cls,
        *,
        id: str,
        code: str,
        name: str,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        customer_class: CustomerClass = CustomerClass.ORDINARY,
        legal_representative: str = "",
        phone: str = "",
        fax: str = "",
        email: str = "",
        address: str = "",
        postcode: str = "",
        city: str = "",
        bank_account: str = "",
        business_scope: str = "",
        registered_capital: Money | None = None,
        rest_hours: QuietHours | None = None,
        birthday: date | None = None,
    ) -> Customer:
        """Open a new customer file; needs ``customer.edit`` (docs/domain.md 1)."""
        access.require(by, Permission.EDIT_CUSTOMER)
        return cls(
            id=id,
            code=code,
            name=name,
            customer_class=customer_class,
            legal_representative=legal_representative,
            phone=phone,
            fax=fax,
            email=email,
            address=address,
            postcode=postcode,
            city=city,
            bank_account=bank_account,
            business_scope=business_scope,
            registered_capital=registered_capital,
            rest_hours=rest_hours,
            birthday=birthday,
            created_at=require_aware(at),
            created_by=by.id,
        )

    def change(self, *, at: datetime, by: Actor, access: AccessPolicy, **fields: Any) -> Customer:
        """Change fields and append one log entry per changed field (docs/domain.md 1).

        Fields whose value does not change leave no entry. Unknown or fixed fields (``id``,
        ``code``, the log itself) raise :class:`ValidationError`.
        """
        access.require(by, Permission.EDIT_CUSTOMER)
        require_aware(at)
        bad = sorted(set(fields) - CHANGEABLE_FIELDS)
        if bad:
            raise ValidationError([(name, "cannot be changed") for name in bad])
        if "customer_class" in fields:
            fields["customer_class"] = _customer_class(fields["customer_class"])
        log = [
            CustomerFieldChange(
                field=name,
                old=_display(getattr(self, name)),
                new=_display(value),
                at=at,
                by=by.id,
            )
            for name, value in sorted(fields.items())
            if getattr(self, name) != value
        ]
        if not log:
            return self
        try:
            return attrs.evolve(self, changes=(*self.changes, *log), **fields)
        except TypeError as err:
            raise ValidationError.at("", f"bad field value: {err}") from None

    def history_of(self, field: str) -> tuple[CustomerFieldChange, ...]:
        """Every recorded change of ``field``, oldest first."""
        return tuple(c for c in self.changes if c.field == field)

    def value_at(self, field: str, at: datetime) -> str | None:
        """The displayed value ``field`` had at instant ``at`` (change log lookup)."""
        moment = require_aware(at)
        if field not in CHANGEABLE_FIELDS:
            raise ValidationError.at(field, "not a customer field")
        value = _display(getattr(self, field))
        for entry in reversed(self.changes):
            if entry.field == field and entry.at > moment:
                value = entry.old
        return value

    @property
    def phone_key(self) -> str | None:
        """The phone number normalised with the default country code 86."""
        key = normalise_phone(self.phone)
        return key or None

    @property
    def phone_tail(self) -> str | None:
        """The last :data:`PHONE_TAIL_DIGITS` digits of the phone number (an index field).

        It does not depend on a country code, so the duplicate check can find candidates
        through it whatever the policy's ``phone_country_code`` is, then compare them with
        :func:`normalise_phone` under that code.
        """
        digits = _NON_DIGITS.sub("", self.phone).lstrip("0")
        return digits[-PHONE_TAIL_DIGITS:] or None

    @property
    def bank_account_key(self) -> str | None:
        """The normalised bank account (an index field for the duplicate check)."""
        key = normalise_bank_account(self.bank_account)
        return key or None


class DuplicateField(StrEnum):
    """Which contact field two customers share."""

    PHONE = "phone"
    BANK_ACCOUNT = "bank_account"


@attrs.frozen
class DuplicateMatch:
    """Another customer that shares ``field`` with the candidate."""

    customer_id: str
    field: DuplicateField


@attrs.frozen
class DuplicateContactWarning:
    """Other customers share a phone number or bank account with the candidate (预警).

    A value the service returns next to the customer; it is never raised and nothing is
    merged. Source: docs/domain.md 1, duplicates are checked.
    """

    customer_id: str
    matches: tuple[DuplicateMatch, ...]

    @property
    def customer_ids(self) -> tuple[str, ...]:
        """The other customers' ids, sorted, each once."""
        return tuple(sorted({m.customer_id for m in self.matches}))

    @property
    def fields(self) -> frozenset[DuplicateField]:
        """The fields that matched."""
        return frozenset(m.field for m in self.matches)

    def __str__(self) -> str:
        parts = ", ".join(f"{m.customer_id} ({m.field})" for m in self.matches)
        return f"customer {self.customer_id!r} shares contact data with {parts}"


def duplicate_contacts(
    candidate: Customer, existing: Iterable[Customer], *, country_code: str = "86"
) -> DuplicateContactWarning | None:
    """Warn when other customers have the same phone number or bank account (docs/domain.md 1).

    Phone numbers are compared after :func:`normalise_phone`, bank accounts after
    :func:`normalise_bank_account`; the candidate itself (same id) is skipped.
    """
    phone = normalise_phone(candidate.phone, country_code) if candidate.phone else ""
    account = normalise_bank_account(candidate.bank_account)
    matches: set[DuplicateMatch] = set()
    for other in existing:
        if other.id == candidate.id:
            continue
        if phone and other.phone and normalise_phone(other.phone, country_code) == phone:
            matches.add(DuplicateMatch(other.id, DuplicateField.PHONE))
        if account and normalise_bank_account(other.bank_account) == account:
            matches.add(DuplicateMatch(other.id, DuplicateField.BANK_ACCOUNT))
    if not matches:
        return None
    ordered = tuple(sorted(matches, key=lambda m: (m.customer_id, m.field.value)))
    return DuplicateContactWarning(customer_id=candidate.id, matches=ordered)


@attrs.frozen
class CustomerRegistered(Event):
    """A customer file was opened."""

    customer_id: str
    code: str
    customer_class: CustomerClass
    at: datetime
    by: str


@attrs.frozen
class CustomerChanged(Event):
    """Fields of a customer file changed; values stay in the file (privacy, docs/domain.md 1)."""

    customer_id: str
    fields: tuple[str, ...]
    at: datetime
    by: str


def customer_events(before: Customer | None, after: Customer) -> list[Event]:
    """The events between two versions of a customer file (``before=None``: registered)."""
    events: list[Event] = []
    if before is None:
        at = after.created_at
        if at is None:
            raise ValidationError.at("created_at", "a registered customer needs created_at")
        events.append(
            CustomerRegistered(
                customer_id=after.id,
                code=after.code,
                customer_class=after.customer_class,
                at=at,
                by=after.created_by,
            )
        )
        known = 0
    else:
        known = len(before.changes)
    new = after.changes[known:]
    groups: dict[tuple[datetime, str], list[str]] = {}
    for entry in new:
        groups.setdefault((entry.at, entry.by), []).append(entry.field)
    events.extend(
        CustomerChanged(customer_id=after.id, fields=tuple(fields), at=at_, by=by_)
        for (at_, by_), fields in groups.items()
    )
    return events
