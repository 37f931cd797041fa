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
:class:`~csdomain.auth.AccessPolicy` and check :data:`Permission.EDIT_CUSTOMER` themselves;
a change of the class also needs :data:`Permission.CLASSIFY_CUSTOMER` (a class decides
credit and prices), and a change of phone or bank account needs the reference of its
supporting document, kept in the change log.

The rest of the file follows docs/domain.md 9: market type, customer type and delivery
route; the account manager (客户所属的客户经理), who contacts a newly assigned customer
within :attr:`CustomerPolicy.first_contact_within` (:attr:`Customer.first_contact_due`);
the handover of a leaving employee's customers to a successor (:class:`CustomerHandover`,
指派其员工接替); the interaction log (:class:`Interaction`: call, visit, letter, message);
and the filing document (备案文件) without which a bank account already on another customer
is refused. :func:`redacted` is the file as a role without ``customer.read`` sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from csdomain.auth import AccessPolicy, Actor, Permission, same_identity
from csdomain.calendar import QuietHours
from csdomain.clock import require_aware, utc
from csdomain.errors import RuleViolation, ValidationError, describe
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
    positive_duration,
    text,
    tuple_of,
)
from csdomain.validators import not_blank as _not_blank


__all__ = [
    "CHANGEABLE_FIELDS",
    "DOCUMENTED_FIELDS",
    "LOGGED_FIELDS",
    "PERSONAL_FIELDS",
    "REDACTED",
    "Customer",
    "CustomerChanged",
    "CustomerClass",
    "CustomerFieldChange",
    "CustomerHandedOver",
    "CustomerHandover",
    "CustomerPolicy",
    "CustomerRegistered",
    "DueContact",
    "DuplicateContactWarning",
    "DuplicateMatch",
    "Interaction",
    "InteractionChannel",
    "InteractionRecorded",
    "customer_events",
    "duplicate_contacts",
    "handover_events",
    "handover_id",
    "interaction_events",
    "interaction_id",
    "next_customer_code",
    "normalise_bank_account",
    "normalise_phone",
    "redacted",
    "redacted_interaction",
    "require_filing_for_shared_account",
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
    #: How soon a newly assigned account manager contacts the customer (docs/domain.md 9:
    #: a newly assigned customer is contacted within a week).
    first_contact_within: timedelta = attrs.field(
        default=timedelta(days=7), validator=positive_duration
    )

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
    """One recorded change of one field: who changed it, when, from what, to what.

    ``document`` is the reference of the document behind the change: the supporting
    copies of a phone or bank-account change (开户身份证及新卡号的复印件), the filing document
    of a shared bank account (备案文件), the handover record of a new account manager.
    """

    field: str = attrs.field(validator=_not_blank)
    old: str | None = attrs.field(validator=optional_text)
    new: str | None = attrs.field(validator=optional_text)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=text)
    document: str = attrs.field(default="", validator=text)


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
        "market_type",
        "customer_type",
        "delivery_route",
        "language",
    }
)

#: Every field the change log records: the changeable ones, the account manager and the
#: filing document of the bank account.
LOGGED_FIELDS: frozenset[str] = CHANGEABLE_FIELDS | {"account_manager", "bank_account_filing"}

#: Fields whose change needs the reference of a supporting document (docs/domain.md 9:
#: a bank change needs 开户身份证及新卡号的复印件; phone and bank account keep a trace, 1).
DOCUMENTED_FIELDS: frozenset[str] = frozenset({"phone", "bank_account"})

#: Customer-file fields that hold the customer's personal data: a role without
#: ``customer.read`` sees them redacted (:func:`redacted`, docs/domain.md 1 privacy). The
#: id, the code, the class, the city, the market and customer types, the delivery route and
#: the account manager are not personal data.
PERSONAL_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "legal_representative",
        "phone",
        "fax",
        "email",
        "address",
        "postcode",
        "bank_account",
        "business_scope",
        "registered_capital",
        "rest_hours",
        "birthday",
    }
)

#: What a redacted text field shows.
REDACTED = "[redacted]"


def _display(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, QuietHours):
        return f"{value.start.isoformat()}-{value.end.isoformat()} {value.tz}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def _language(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    """Empty (the policy's language) or a language tag: ``zh-CN``, ``en``, ``pt_BR``."""
    if not isinstance(value, str):
        raise ValidationError.at(attribute.name, f"expected a language tag, got {describe(value)}")
    if value and not _LANGUAGE_TAG.fullmatch(value):
        raise ValidationError.at(attribute.name, f"{describe(value)} is not a language tag")


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
    #: The customer's market type (an onboarding field, docs/domain.md 9; the documents name
    #: no list, so it is the application's own short text).
    market_type: str = attrs.field(default="", validator=text)
    #: The customer type (an onboarding field, docs/domain.md 9), the application's text.
    customer_type: str = attrs.field(default="", validator=text)
    #: The delivery route of the customer's shipments (an onboarding field, docs/domain.md 9).
    delivery_route: str = attrs.field(default="", validator=text)
    #: The staff id of the customer's account manager (客户所属的客户经理, docs/domain.md 9).
    account_manager: str = attrs.field(default="", validator=text)
    #: When the account manager's first contact is due; ``None`` once it was made or when
    #: nobody is assigned (a newly assigned customer is contacted within a week).
    first_contact_due: datetime | None = attrs.field(default=None, validator=optional(_aware))
    #: The filing document (备案文件) that lets a bank account shared with another
    #: customer stay on this file (docs/domain.md 9); empty when none was needed or given.
    bank_account_filing: str = attrs.field(default="", validator=text)
    #: The language the customer's messages are written in (a tag such as ``zh-CN`` or
    #: ``en``); empty: the policy's ``notifications.language``.
    language: str = attrs.field(default="", validator=_language)

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
        market_type: str = "",
        customer_type: str = "",
        delivery_route: str = "",
        account_manager: str = "",
        first_contact_within: timedelta | None = None,
        bank_account_filing: str = "",
        language: str = "",
    ) -> Customer:
        """Open a new customer file; needs ``customer.edit`` (docs/domain.md 1).

        With an ``account_manager`` the first contact is due ``first_contact_within``
        after ``at`` (docs/domain.md 9; :attr:`CustomerPolicy.first_contact_within`).
        """
        access.require(by, Permission.EDIT_CUSTOMER)
        manager = account_manager.strip()
        due = None
        if manager:
            within = first_contact_within or CustomerPolicy().first_contact_within
            due = require_aware(at) + within
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
            market_type=market_type,
            customer_type=customer_type,
            delivery_route=delivery_route,
            account_manager=manager,
            first_contact_due=due,
            bank_account_filing=bank_account_filing,
            language=language,
        )

    def change(
        self,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        document: str = "",
        filing_document: str | None = None,
        **fields: Any,
    ) -> Customer:
        """Change fields and append one log entry per changed field (docs/domain.md 1).

        Fields whose value does not change leave no entry. Unknown or fixed fields (``id``,
        ``code``, the log itself) raise :class:`ValidationError`. Needs ``customer.edit``;
        a change of ``customer_class`` also needs ``customer.classify`` (docs/domain.md 1: a
        class decides credit and prices). A change of phone or bank account needs
        ``document``, the reference of its supporting copies (docs/domain.md 9), which every
        entry of the change keeps. A new bank account keeps ``filing_document`` as its
        filing document (备案文件), or none.
        """
        access.require(by, Permission.EDIT_CUSTOMER)
        require_aware(at)
        bad = sorted(set(fields) - CHANGEABLE_FIELDS)
        if bad:
            raise ValidationError([(name, "cannot be changed") for name in bad])
        if not isinstance(document, str):
            raise ValidationError.at("document", "a document reference is text")
        if "customer_class" in fields:
            fields["customer_class"] = _customer_class(fields["customer_class"])
        changed = {
            name: value for name, value in sorted(fields.items()) if getattr(self, name) != value
        }
        if not changed:
            return self
        if "customer_class" in changed:
            access.require(by, Permission.CLASSIFY_CUSTOMER)
        documented = sorted(DOCUMENTED_FIELDS & set(changed))
        if documented and not document.strip():
            msg = (
                f"a change of {' and '.join(documented)} needs the reference of its "
                "supporting document (开户身份证及新卡号的复印件)"
            )
            raise ValidationError.at("document", msg)
        filing = (filing_document or "").strip()
        if "bank_account" in changed and filing != self.bank_account_filing:
            changed["bank_account_filing"] = filing
        log = [
            CustomerFieldChange(
                field=name,
                old=_display(getattr(self, name)),
                new=_display(value),
                at=at,
                by=by.id,
                document=document.strip(),
            )
            for name, value in changed.items()
        ]
        try:
            return attrs.evolve(self, changes=(*self.changes, *log), **changed)
        except TypeError as err:
            raise ValidationError.at("", f"bad field value: {err}") from None

    def assign_account_manager(
        self,
        manager: str,
        *,
        at: datetime,
        by: Actor,
        access: AccessPolicy,
        within: timedelta,
        document: str = "",
    ) -> Customer:
        """Make ``manager`` the account manager; their first contact is due ``within``.

        Source: docs/domain.md 9 (确定客户所属的客户经理; a newly assigned customer is
        contacted within a week). Needs ``customer.edit``. The change is kept in the log
        (``document``: e.g. the handover record); the same manager again changes nothing.
        """
        access.require(by, Permission.EDIT_CUSTOMER)
        moment = require_aware(at)
        if not isinstance(manager, str) or not manager.strip():
            raise ValidationError.at("manager", "an account manager is a staff id")
        manager = manager.strip()
        if same_identity(manager, self.account_manager):
            return self
        entry = CustomerFieldChange(
            field="account_manager",
            old=self.account_manager or None,
            new=manager,
            at=moment,
            by=by.id,
            document=document.strip(),
        )
        return attrs.evolve(
            self,
            account_manager=manager,
            first_contact_due=moment + within,
            changes=(*self.changes, entry),
        )

    def contacted(self, *, by: str, at: datetime) -> Customer:
        """The file after ``by`` contacted the customer at ``at`` (docs/domain.md 9).

        The account manager's contact ends the wait for a first contact; anyone else's
        contact, or one before the assignment, leaves it due.
        """
        moment = require_aware(at)
        if self.first_contact_due is None or not same_identity(by, self.account_manager):
            return self
        assigned = next(
            (c.at for c in reversed(self.changes) if c.field == "account_manager"),
            self.created_at,
        )
        if assigned is not None and moment < assigned:
            return self
        return attrs.evolve(self, first_contact_due=None)

    def history_of(self, field: str) -> tuple[CustomerFieldChange, ...]:
        """Every recorded change of ``field``, oldest first."""
        return tuple(c for c in self.changes if c.field == field)

    def value_at(self, field: str, at: datetime) -> str | None:
        """The displayed value ``field`` had at instant ``at`` (change log lookup)."""
        moment = require_aware(at)
        if field not in LOGGED_FIELDS:
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


def redacted(customer: Customer) -> Customer:
    """The file as a role without ``customer.read`` sees it (docs/domain.md 1 privacy).

    The :data:`PERSONAL_FIELDS` are emptied (the name reads :data:`REDACTED`) and the
    change log keeps which field changed when and by whom, but not the old and new values
    of personal fields (nor the documents behind them).
    """
    changes = tuple(
        attrs.evolve(
            change,
            old=REDACTED if change.old else change.old,
            new=REDACTED if change.new else change.new,
            document=REDACTED if change.document else "",
        )
        if change.field in PERSONAL_FIELDS
        else change
        for change in customer.changes
    )
    return attrs.evolve(
        customer,
        name=REDACTED,
        legal_representative="",
        phone="",
        fax="",
        email="",
        address="",
        postcode="",
        bank_account="",
        business_scope="",
        registered_capital=None,
        rest_hours=None,
        birthday=None,
        changes=changes,
    )


@attrs.frozen
class DueContact:
    """A customer whose new account manager has not made the first contact yet.

    Holds no personal data (id, code, staff id, due time), so listing it needs no access
    record. Source: docs/domain.md 9 (a newly assigned customer is contacted within a week).
    """

    customer_id: str
    code: str
    account_manager: str
    due: datetime

    @classmethod
    def of(cls, customer: Customer) -> DueContact:
        """The due contact of ``customer`` (which must have one)."""
        if customer.first_contact_due is None:
            raise ValidationError.at("first_contact_due", "no first contact is due")
        return cls(customer.id, customer.code, customer.account_manager, customer.first_contact_due)


@attrs.frozen
class CustomerHandover:
    """One handover of a leaving employee's customers to a successor, on record.

    Source: docs/domain.md 9 (when staff leave, 及时通知有关客户,并指派其员工接替). Each file's
    change log names this record's ``id`` as the document of its new account manager.
    """

    id: str = attrs.field(validator=_not_blank)
    leaving: str = attrs.field(validator=_not_blank)
    successor: str = attrs.field(validator=_not_blank)
    customer_ids: tuple[str, ...] = attrs.field(validator=tuple_of(str))
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    reason: str = attrs.field(default="", validator=text)


def handover_id(at: datetime, token: str) -> str:
    """``HO-<UTC time to the microsecond>-<token>``: handovers sort by time."""
    return f"HO-{utc(at):%Y%m%d%H%M%S%f}-{token}"


class InteractionChannel(StrEnum):
    """How staff and a customer were in touch (docs/domain.md 3.5 and 9: 联系者报告制度)."""

    CALL = "call"
    VISIT = "visit"
    LETTER = "letter"
    MESSAGE = "message"


def _channel(value: object) -> InteractionChannel:
    return enum_value(InteractionChannel, value, "channel")


@attrs.frozen
class Interaction:
    """One contact with a customer in the customer's interaction log: who, when, how, what.

    Source: docs/domain.md 9 (the contact report of the account manager, 联系者报告制度) and
    3.5 (follow-up visits and care touch-points go into a visit log). ``source`` names
    what wrote the entry (``"account_manager"``, ``"complaint_follow_up"``, ``"care"``),
    ``subject_id`` the record it belongs to (a complaint, a care schedule), if any. The
    summary is free text about the customer: reading it is a personal-data read.
    """

    id: str = attrs.field(validator=_not_blank)
    customer_id: str = attrs.field(validator=_not_blank)
    channel: InteractionChannel = attrs.field(converter=_channel)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=_not_blank)
    summary: str = attrs.field(validator=_not_blank)
    source: str = attrs.field(default="", validator=text)
    subject_id: str = attrs.field(default="", validator=text)


def interaction_id(at: datetime, token: str) -> str:
    """``IA-<UTC time to the microsecond>-<token>``: a log sorts by time of contact."""
    return f"IA-{utc(at):%Y%m%d%H%M%S%f}-{token}"


def redacted_interaction(interaction: Interaction) -> Interaction:
    """The entry without its summary, for a role without ``customer.read``."""
    return attrs.evolve(interaction, summary=REDACTED)


@attrs.frozen
class InteractionRecorded(Event):
    """A contact was added to a customer's interaction log (no summary: privacy)."""

    customer_id: str
    interaction_id: str
    channel: InteractionChannel
    at: datetime
    by: str


@attrs.frozen
class CustomerHandedOver(Event):
    """A leaving employee's customers went to a successor (docs/domain.md 9)."""

    handover_id: str
    leaving: str
    successor: str
    customers: int
    at: datetime
    by: str


def interaction_events(before: Interaction | None, after: Interaction) -> list[Event]:
    """The event of a new interaction log entry (entries never change)."""
    if before is not None:
        return []
    return [
        InteractionRecorded(
            customer_id=after.customer_id,
            interaction_id=after.id,
            channel=after.channel,
            at=after.at,
            by=after.by,
        )
    ]


def handover_events(before: CustomerHandover | None, after: CustomerHandover) -> list[Event]:
    """The event of a new handover record."""
    if before is not None:
        return []
    return [
        CustomerHandedOver(
            handover_id=after.id,
            leaving=after.leaving,
            successor=after.successor,
            customers=len(after.customer_ids),
            at=after.at,
            by=after.by,
        )
    ]


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


def require_filing_for_shared_account(
    customer: Customer, warning: DuplicateContactWarning | None
) -> None:
    """Refuse a bank account another customer has, unless a filing document is on the file.

    Source: docs/domain.md 9 (a bank account already on another customer is kept only after
    提供备案文件). Raises :class:`RuleViolation` ``shared_bank_account`` naming the others.
    """
    if warning is None or DuplicateField.BANK_ACCOUNT not in warning.fields:
        return
    if customer.bank_account_filing:
        return
    others = sorted(
        {m.customer_id for m in warning.matches if m.field is DuplicateField.BANK_ACCOUNT}
    )
    raise RuleViolation(
        "shared_bank_account",
        f"bank account of {customer.id!r} is already on {', '.join(others)}; "
        "it is kept only with the reference of a filing document (备案文件, filing_document=)",
        customer_id=customer.id,
        others=others,
    )


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
