"""Use cases for the customer's own data: erasure and export on request.

Source: docs/domain.md 1 (nobody reads a customer file without permission). Reading a file
leaves an :class:`~csdomain.audit.AccessRecord` (see :mod:`csdomain.desk.customers`);
the two use cases here complete the privacy rules:

- :meth:`PrivacyDesk.erase_customer` (``customer.erase``) pseudonymises the personal data
  of one customer in one unit of work: the customer file loses name, contacts, address,
  bank account, birthday and rest hours (its code becomes ``ERASED-<id>``, the change log
  keeps who changed which field when, but not the values). Every document about the
  customer (found by the ``customer_id`` index, or by scanning the kinds that name
  customers without one: part movements, handovers) is rewritten: the fields that hold
  the customer's own data are replaced whole (message recipients, a complaint's
  ``signed_by``, and per class :data:`REPLACED_FIELDS`: the site address of product
  files and service orders, the quote's ``approved_by``, the sign-off's
  ``customer_name``), and in every free-text field (descriptions, visit notes, sign-off
  feedback, interaction summaries, survey answers, event payloads ...) each mention of
  the customer's data is replaced by ``[erased]`` — the file's values, current and in the
  change log, and the values of those replaced fields and of the orders' consignees.
  Documents that name no customer (damage applications, transfers ...) lose such
  mentions too. Messages not yet delivered are cancelled. Orders and payments stay
  intact for accounting (the consignee included), ids and statistics stay as they are.
  The erasure is logged (an access record and a :class:`CustomerErased` event) with who,
  when and why, but no erased data.
  Once the erasure has committed, the store purges the old bytes
  (:meth:`~csdomain.store.Store.purge_erased`): on SQLite no erased value remains in the
  database file, its write-ahead log or journal (docs/reliability.md, "Erasure").
- :meth:`PrivacyDesk.export_customer` (``customer.export``) returns everything stored about
  one customer as JSON-ready data, and is recorded in the access log.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import attrs

from csdomain.auth import Actor, Permission
from csdomain.complaints.model import CustomerAcceptance
from csdomain.customers import Customer, normalise_bank_account, normalise_phone
from csdomain.desk.args import Id, ShortText
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import CsDomainError, ValidationError
from csdomain.events import Event
from csdomain.fieldservice import ProductFile, QuoteApproval, ServiceOrder, SignOff
from csdomain.kinds import CUSTOMERS, MESSAGES, ORDERS, OUTBOX, SURVEY_CAMPAIGNS
from csdomain.notify import Message, MessageStatus
from csdomain.orders import ConsigneeInfo
from csdomain.serialization import converter
from csdomain.store import Kind, OutboxEntry, UnitOfWork


__all__ = [
    "ERASED",
    "MASKED",
    "REPLACED_FIELDS",
    "CustomerErased",
    "ErasureReport",
    "PersonalDataRedactor",
    "PrivacyDesk",
    "erase_customer_file",
    "personal_values",
    "replace_whole",
    "scrub",
]

#: What erased personal data is replaced with: written into the stored documents by
#: :meth:`PrivacyDesk.erase_customer` (project default).
ERASED = "[erased]"

#: What personal data reads as when it is masked for an actor without ``customer.read``
#: (docs/domain.md 1, nobody reads a customer file without permission; project default).
#: Only the displayed copy changes, nothing stored; a value already erased in storage
#: still reads :data:`ERASED` (it is erased, not masked).
MASKED = "[masked]"

#: The markers that replace personal data; a marker is never taken for the data itself.
_MARKERS: frozenset[str] = frozenset({ERASED, MASKED})

#: Customer-file fields that hold personal data; their values leave the change log too.
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
        "birthday",
        "rest_hours",
    }
)

#: Fields that hold ids, staff names, codes and other values that are not the customer's
#: personal data: :func:`scrub` leaves them alone.
_KEEP: frozenset[str] = frozenset(
    {
        "id",
        "by",
        "from_",
        "to",
        "kind",
        "type",
        "channel",
        "source",
        "idempotency_key",
        "currency",
        "sku",
        "tracking",
        "reference",
        "technician",
        "responsible_person",
        "owner_role",
        "department",
        "policy_version",
        "part_number",
        "fields",
        "invited",
    }
)
_KEEP_SUFFIXES = ("_id", "_ids", "_by", "serial", "serials", "_key")

#: Fields whose whole value is the customer's personal data when set, in any class (the
#: plain-JSON payloads of events whose class this process does not know included).
_REPLACE: frozenset[str] = frozenset({"recipient", "signed_by"})

#: Fields replaced whole in the documents about the customer, per class: their value is the
#: customer's own data (the site address of a product and of a job, whoever approved a
#: quote or signed off a job on the customer's side). Per class, because a name such as
#: ``approved_by`` means the customer here and staff elsewhere (``*_by`` fields are kept).
REPLACED_FIELDS: Mapping[type, frozenset[str]] = {
    ProductFile: frozenset({"address"}),
    ServiceOrder: frozenset({"address"}),
    QuoteApproval: frozenset({"approved_by"}),
    SignOff: frozenset({"customer_name"}),
}

#: Where the customer's personal data sits in their documents, per class: field -> what it
#: is (as a customer-file field). These values are searched for in every free text, so a
#: site address or a signer's name quoted in a note is erased there too. The consignee
#: stays on the order (accounting) but is erased wherever else it is quoted.
_PERSONAL_SOURCES: Mapping[type, Mapping[str, str]] = {
    ProductFile: {"address": "address"},
    ServiceOrder: {"address": "address"},
    QuoteApproval: {"approved_by": "name"},
    SignOff: {"customer_name": "name"},
    CustomerAcceptance: {"signed_by": "name"},
    Message: {"recipient": "recipient"},
    ConsigneeInfo: {
        "consignee": "name",
        "phone": "phone",
        "address": "address",
        "invoice_title": "name",
    },
}

_ASCII_WORD = re.compile(r"[A-Za-z0-9]")
_PHONE_SEP = r"[\s\-.()/]*"
_ACCOUNT_SEP = r"[\s\-]*"
_MIN_TEXT = 2
_MIN_DIGITS = 5
_MIN_ACCOUNT = 6


def _text_pattern(needle: str) -> str | None:
    words = needle.split()
    if len("".join(words)) < _MIN_TEXT:
        return None
    body = r"\s+".join(re.escape(w) for w in words)
    head = r"(?<![A-Za-z0-9])" if _ASCII_WORD.match(words[0][0]) else ""
    tail = r"(?![A-Za-z0-9])" if _ASCII_WORD.match(words[-1][-1]) else ""
    return head + body + tail


def _phone_pattern(digits: str, country_code: str) -> str | None:
    if len(digits) < _MIN_DIGITS or not digits.isdigit():
        return None
    prefix = rf"(?:(?:\+|00){re.escape(country_code)}{_PHONE_SEP})?(?:0{_PHONE_SEP})?"
    return r"(?<!\d)" + prefix + _PHONE_SEP.join(digits) + r"(?!\d)"


def _account_pattern(account: str) -> str | None:
    if len(account) < _MIN_ACCOUNT:
        return None
    body = _ACCOUNT_SEP.join(re.escape(c) for c in account)
    return r"(?<![A-Za-z0-9])" + body + r"(?![A-Za-z0-9])"


@attrs.frozen
class PersonalDataRedactor:
    """Replaces one customer's personal data in free text with ``replacement``.

    Names, addresses and e-mail addresses match case-insensitively with any spacing;
    phone numbers match in any formatting (country code, trunk ``0``, separators); bank
    accounts with or without spaces and dashes. Values the change log says the customer
    had before count as well. The replacement is :data:`ERASED` for the erasure (what is
    stored) and :data:`MASKED` for what an actor without ``customer.read`` is shown; a
    mention already erased in storage is no personal data and stays :data:`ERASED`.
    """

    pattern: re.Pattern[str] | None
    replacement: str = ERASED

    @classmethod
    def for_customer(
        cls,
        customer: Customer,
        *,
        country_code: str = "86",
        also: Iterable[tuple[str, str]] = (),
        replacement: str = ERASED,
    ) -> PersonalDataRedactor:
        """The redactor of ``customer``'s current and recorded personal data.

        ``also`` adds values found in the customer's other documents, as pairs of what
        the value is (a customer-file field such as ``"name"``, ``"phone"``,
        ``"address"``, or ``"recipient"`` for a phone number or e-mail address) and the
        value (:func:`personal_values` gives them). ``replacement`` is what each mention
        becomes: :data:`ERASED` (the erasure) or :data:`MASKED` (a masked read).
        """
        texts = {customer.code}
        phones: set[str] = set()
        accounts: set[str] = set()

        def note(field: str, value: str | None) -> None:
            if not value or value in _MARKERS:
                return
            if field == "recipient":
                field = "email" if "@" in value else "phone"
            if field in ("phone", "fax"):
                phones.add(normalise_phone(value, country_code))
            elif field == "bank_account":
                accounts.add(normalise_bank_account(value))
            if field in ("name", "legal_representative", "email", "address", "bank_account"):
                texts.add(value)

        for field in ("name", "legal_representative", "phone", "fax", "email", "address"):
            note(field, getattr(customer, field))
        note("bank_account", customer.bank_account)
        for change in customer.changes:
            note(change.field, change.old)
            note(change.field, change.new)
        for field, value in also:
            note(field, value)
        found = [_text_pattern(t) for t in texts if not t.startswith("ERASED-")]
        found += [_phone_pattern(p, country_code) for p in phones]
        found += [_account_pattern(a) for a in accounts]
        patterns = sorted({p for p in found if p}, key=lambda p: (-len(p), p))
        if not patterns:
            return cls(None, replacement)
        return cls(re.compile("|".join(patterns), re.IGNORECASE), replacement)

    def __call__(self, text: str) -> str:
        """``text`` with every mention of the customer's personal data replaced."""
        if self.pattern is None or not text:
            return text
        return self.pattern.sub(self.replacement, text)


def _kept(name: str) -> bool:
    # a field replaced whole (``signed_by``: the customer's name) is never kept, even when
    # its name ends like a staff field (``_by``)
    return name not in _REPLACE and (name in _KEEP or name.endswith(_KEEP_SUFFIXES))


def replace_whole(value: str, replacement: str) -> str:
    """A text whose whole value is personal data, as ``replacement`` shows it.

    Empty text stays empty; a value already erased in storage stays :data:`ERASED` (a
    masked read of erased data says it is erased, not that it is hidden).
    """
    return replacement if value and value not in _MARKERS else value


def _replaced_whole(value: Any, replacement: str) -> Any:
    """A field of :data:`REPLACED_FIELDS`: its text (every text in it) becomes
    ``replacement``."""
    if isinstance(value, str):
        return replace_whole(value, replacement)
    if isinstance(value, tuple):
        items = tuple(_replaced_whole(item, replacement) for item in value)
        return items if items != value else value
    return value


def scrub(
    value: Any, redact: Callable[[str], str], name: str = "", *, replacement: str | None = None
) -> Any:
    """``value`` with the personal data ``redact`` finds replaced in every free-text field.

    Walks attrs objects, tuples and mappings; plain strings are redacted, enum values,
    numbers, times and the fields that hold ids or staff data (``*_id``, ``by``, serials)
    are left alone; ``recipient`` and ``signed_by`` are replaced whole, and so are the
    fields :data:`REPLACED_FIELDS` names for the object's class (``approved_by`` of a
    :class:`~csdomain.fieldservice.QuoteApproval`, a job's ``address``). What replaces
    them whole is ``replacement``; by default the text ``redact`` writes (a
    :class:`PersonalDataRedactor`'s ``replacement``), else :data:`ERASED`. Returns
    ``value`` itself when nothing changed.
    """
    if replacement is None:
        replacement = redact.replacement if isinstance(redact, PersonalDataRedactor) else ERASED
    if name and _kept(name):
        return value
    if type(value) is str:
        if name in _REPLACE:
            return replace_whole(value, replacement)
        return redact(value)
    if attrs.has(type(value)):
        whole = REPLACED_FIELDS.get(type(value), frozenset())
        changes: dict[str, Any] = {}
        for field in attrs.fields(type(value)):
            if not field.init:
                continue
            old = getattr(value, field.name)
            new = (
                _replaced_whole(old, replacement)
                if field.name in whole
                else scrub(old, redact, field.name, replacement=replacement)
            )
            if new is not old and new != old:
                changes[field.alias or field.name] = new
        return attrs.evolve(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(scrub(item, redact, name, replacement=replacement) for item in value)
        return items if items != value else value
    if isinstance(value, Mapping):
        mapped = {key: scrub(item, redact, replacement=replacement) for key, item in value.items()}
        return mapped if mapped != value else value
    return value


def personal_values(value: Any) -> Iterator[tuple[str, str]]:
    """The customer's personal data held in ``value``'s personal fields, as pairs of what
    it is (``"name"``, ``"phone"``, ``"address"``, ``"recipient"``) and the value.

    Walks attrs objects, tuples and mappings like :func:`scrub`; the fields are the ones
    listed per class (site addresses, signers and approvers, a message's recipient, an
    order's consignee). What :meth:`PersonalDataRedactor.for_customer` takes as ``also``.
    """
    if attrs.has(type(value)):
        sources = _PERSONAL_SOURCES.get(type(value), {})
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            what = sources.get(field.name)
            if what is not None and isinstance(item, str):
                if item and item not in _MARKERS:
                    yield what, item
            else:
                yield from personal_values(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from personal_values(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from personal_values(item)


def _blank(value: str | None) -> str | None:
    return value if not value else ERASED


def erase_customer_file(customer: Customer, redact: Callable[[str], str]) -> Customer:
    """The customer file without personal data (docs/domain.md 1 privacy, erasure on request).

    Identity (``id``), class, city, registered capital and the creation record stay; the
    code becomes ``ERASED-<id>`` (it contains the name); personal fields are emptied and
    the change log keeps field, time and author but not the values of personal fields.
    """
    changes = tuple(
        attrs.evolve(change, old=_blank(change.old), new=_blank(change.new))
        if change.field in PERSONAL_FIELDS
        else scrub(change, redact)
        for change in customer.changes
    )
    return attrs.evolve(
        customer,
        code=f"ERASED-{customer.id}",
        name=ERASED,
        legal_representative="",
        phone="",
        fax="",
        email="",
        address="",
        postcode="",
        bank_account="",
        business_scope=redact(customer.business_scope),
        rest_hours=None,
        birthday=None,
        changes=changes,
    )


@attrs.frozen
class CustomerErased(Event):
    """A customer's personal data was erased on request (no erased data in the event)."""

    customer_id: str
    reason: str
    at: datetime
    by: str


@attrs.frozen
class ErasureReport:
    """What :meth:`PrivacyDesk.erase_customer` changed: documents per kind, cancellations."""

    customer_id: str
    at: datetime
    by: str
    reason: str
    #: Documents rewritten without personal data, per kind (the customer file included).
    documents: dict[str, int]
    #: Messages to the customer that were withdrawn before delivery.
    messages_cancelled: int

    @property
    def total(self) -> int:
        """Documents rewritten, every kind together."""
        return sum(self.documents.values())


#: The fields that name customers in kinds without a ``customer_id`` index.
_LINKS = ("customer_id", "customer_ids")


def _names(obj: Any, customer_id: str, fields: Iterable[str]) -> bool:
    """Whether ``obj`` names ``customer_id`` in one of ``fields`` (an id or a tuple of ids)."""
    for field in fields:
        value = getattr(obj, field, None)
        if value == customer_id or (isinstance(value, tuple) and customer_id in value):
            return True
    return False


def _related(entry: OutboxEntry, ids: set[str]) -> bool:
    return any(isinstance(v, str) and v in ids for v in entry.payload.values())


def _scrub_plain(value: Any, redact: Callable[[str], str], name: str = "") -> Any:
    """:func:`scrub` for plain JSON data, where dict keys are the field names."""
    if name and _kept(name):
        return value
    if isinstance(value, str):
        return (ERASED if value else value) if name in _REPLACE else redact(value)
    if isinstance(value, dict):
        return {key: _scrub_plain(item, redact, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_plain(item, redact, name) for item in value]
    return value


def _payload(entry: OutboxEntry, redact: Callable[[str], str]) -> dict[str, Any]:
    """The entry's payload without personal data, through its event class when known."""
    try:
        event = entry.event()
    except CsDomainError:
        cleaned_plain: dict[str, Any] = _scrub_plain(entry.payload, redact)
        return cleaned_plain
    cleaned = scrub(event, redact)
    if cleaned is event:
        return entry.payload
    data: dict[str, Any] = converter.unstructure(cleaned)
    return data


class PrivacyDesk(DeskBase):
    """Erasure and export of one customer's data on request (docs/domain.md 1 privacy)."""

    def _customer_kinds(self) -> list[Kind[Any]]:
        """The kinds whose documents are found per customer by the ``customer_id`` index."""
        return sorted(
            (k for k in self.store.kinds if "customer_id" in k.index_names),
            key=lambda k: k.name,
        )

    def _linked_kinds(self, *fields: str) -> list[Kind[Any]]:
        """The kinds that name customers in one of ``fields`` without an index on it
        (part movements: ``customer_id``; handovers: ``customer_ids``): scanned."""
        return sorted(
            (
                k
                for k in self.store.kinds
                if "customer_id" not in k.index_names
                and k.name not in (CUSTOMERS.name, OUTBOX.name)
                and attrs.has(k.cls)
                and any(f.name in fields for f in attrs.fields(k.cls))
            ),
            key=lambda k: k.name,
        )

    def _documents(
        self, uow: UnitOfWork, customer_id: str, *fields: str
    ) -> list[tuple[Kind[Any], Any]]:
        """Every document about the customer but the file itself, with its kind: by the
        ``customer_id`` index, then by scanning the kinds that name customers in ``fields``."""
        found: list[tuple[Kind[Any], Any]] = []
        for kind in self._customer_kinds():
            found += [(kind, obj) for obj in uow.repo(kind).find(customer_id=customer_id)]
        for kind in self._linked_kinds(*fields):
            found += [
                (kind, obj) for obj in uow.repo(kind).scan() if _names(obj, customer_id, fields)
            ]
        return found

    def _stop(self, message: Message, now: datetime, by: str) -> Message:
        if message.status is MessageStatus.CLAIMED:
            message = message.mark_failed("customer erased", now, self.policy.notifications)
        if message.status in (MessageStatus.PENDING, MessageStatus.DEAD):
            return message.cancel("customer erased", at=now, by=by)
        return message

    @use_case(Permission.ERASE_CUSTOMER)
    def erase_customer(
        self, uow: UnitOfWork, customer_id: Id, *, by: Actor, reason: ShortText
    ) -> ErasureReport:
        """Pseudonymise one customer's personal data everywhere it is stored.

        Source: docs/domain.md 1 (customer files are private). Needs ``customer.erase``. See the
        module docstring for what changes; orders and payments stay intact. Messages to
        the customer that are not delivered yet are cancelled. The erasure is recorded in
        the access log (purpose ``erasure: <reason>``) and as a :class:`CustomerErased`
        event, without any erased value. Running it again changes nothing more. The
        reason is short text that is not blank. After the commit the backend purges the
        old content of the rewritten kinds from its files (``purge_erased``); if that
        cannot finish (:class:`~csdomain.errors.BackendUnavailable`), the erasure stands
        and running it again purges again.
        """
        if not reason.strip():
            raise ValidationError.at("reason", "must not be blank")
        now = self.now()
        customers = uow.repo(CUSTOMERS)
        customer = customers.get(customer_id)
        documents = self._documents(uow, customer_id, *_LINKS)
        redact = PersonalDataRedactor.for_customer(
            customer,
            country_code=self.policy.customers.phone_country_code,
            also=[pair for _kind, obj in documents for pair in personal_values(obj)],
        )
        counts: dict[str, int] = {}
        erased = erase_customer_file(customer, redact)
        if erased != customer:
            customers.update(erased)
            counts[CUSTOMERS.name] = 1
        related, cancelled = self._erase_documents(
            uow, customer_id, documents, redact, by=by, now=now, counts=counts
        )
        self._erase_mentions(uow, redact, counts)
        self._erase_events(uow, related, redact, counts)
        self.record_access(uow, [customer_id], by, f"erasure: {reason}", at=now)
        uow.after_commit(lambda: self.store.purge_erased(sorted(counts)))
        uow.emit(CustomerErased(customer_id=customer_id, reason=reason, at=now, by=by.id), at=now)
        return ErasureReport(
            customer_id=customer_id,
            at=now,
            by=by.id,
            reason=reason,
            documents=counts,
            messages_cancelled=cancelled,
        )

    def _erase_documents(
        self,
        uow: UnitOfWork,
        customer_id: str,
        documents: list[tuple[Kind[Any], Any]],
        redact: Callable[[str], str],
        *,
        by: Actor,
        now: datetime,
        counts: dict[str, int],
    ) -> tuple[set[str], int]:
        """Scrub every document of the customer but orders; stop undelivered messages.

        Returns the keys of the customer's documents (the customer id included) and how
        many messages were withdrawn; ``counts`` gets the rewritten documents per kind.
        """
        related = {customer_id}
        cancelled = 0
        for kind, obj in documents:
            related.add(kind.key(obj))
            if kind.name == ORDERS.name:
                continue
            new = scrub(obj, redact)
            if kind.name == MESSAGES.name:
                stopped = self._stop(new, now, by.id)
                if stopped.status is not new.status:
                    cancelled += 1
                new = stopped
            if new != obj:
                uow.repo(kind).update(new)
                counts[kind.name] = counts.get(kind.name, 0) + 1
        return related, cancelled

    def _erase_mentions(
        self, uow: UnitOfWork, redact: Callable[[str], str], counts: dict[str, int]
    ) -> None:
        """Redact the customer's data quoted in the kinds that name no customer (damage
        applications on a stock, part transfers, the service network ...)."""
        linked = {k.name for k in self._customer_kinds()}
        linked |= {k.name for k in self._linked_kinds(*_LINKS)}
        for kind in self.store.kinds:
            if kind.name in linked or kind.name in (CUSTOMERS.name, OUTBOX.name):
                continue
            repo = uow.repo(kind)
            for obj in list(repo.scan()):
                new = scrub(obj, redact)
                if new != obj:
                    repo.update(new)
                    counts[kind.name] = counts.get(kind.name, 0) + 1

    def _erase_events(
        self,
        uow: UnitOfWork,
        related: set[str],
        redact: Callable[[str], str],
        counts: dict[str, int],
    ) -> None:
        """Scrub the outbox entries about the customer's documents."""
        outbox = uow.outbox
        for entry in [e for e in outbox.scan() if _related(e, related)]:
            payload = _payload(entry, redact)
            if payload != entry.payload:
                outbox.update(attrs.evolve(entry, payload=payload))
                counts[outbox.kind.name] = counts.get(outbox.kind.name, 0) + 1

    @use_case(Permission.EXPORT_CUSTOMER)
    def export_customer(self, uow: UnitOfWork, customer_id: Id, *, by: Actor) -> dict[str, Any]:
        """Everything stored about one customer, as JSON-ready data (export on request).

        Source: docs/domain.md 1 (customer files are private). Needs ``customer.export``; the
        export is recorded in the access log (purpose ``export``) and the record is part of
        the export. The result maps ``documents`` to every stored document that belongs to
        the customer, by kind (the file itself, orders, returns, delivery problems,
        complaints, warranty claims, survey responses and the campaigns the customer was
        invited to, messages, interactions, access records, product files, service orders,
        maintenance plans and the part movements that name the customer), and ``events``
        to the outbox entries about them. Handover records list other customers too and
        are not part of it.
        """
        now = self.now()
        customer = uow.repo(CUSTOMERS).get(customer_id)
        self.record_access(uow, [customer_id], by, "export", at=now)
        documents: dict[str, list[Any]] = {CUSTOMERS.name: [converter.unstructure(customer)]}
        for kind in self._customer_kinds():
            documents[kind.name] = []
        related = {customer_id}
        # a handover names other customers too: it is not part of one customer's export
        for kind, obj in self._documents(uow, customer_id, "customer_id"):
            related.add(kind.key(obj))
            documents.setdefault(kind.name, []).append(converter.unstructure(obj))
        campaigns = [c for c in uow.repo(SURVEY_CAMPAIGNS).scan() if customer_id in c.invited]
        documents[SURVEY_CAMPAIGNS.name] = [converter.unstructure(c) for c in campaigns]
        events = [converter.unstructure(e) for e in uow.outbox.scan() if _related(e, related)]
        return {
            "customer_id": customer_id,
            "exported_at": now.isoformat(),
            "exported_by": by.id,
            "documents": dict(sorted(documents.items())),
            "events": events,
        }
