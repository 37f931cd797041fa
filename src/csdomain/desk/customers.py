"""Use cases for customer files: register, change, read (with an access log) and search.

Source: docs/domain.md 1 and 9. Customer codes come from the store-backed naming series
(``city - YYYYMM - name - 3-digit serial``); changes are kept in the file's change log;
the same phone number or bank account on another customer comes back as a
:class:`~csdomain.customers.DuplicateContactWarning` next to the saved file, and a bank
account already on another customer is refused (``shared_bank_account``) until a filing
document is given (备案文件). Nobody reads a customer file without it being on record:
every use case that returns a customer file or its interaction log to an actor holding
``customer.read`` leaves an :class:`~csdomain.audit.AccessRecord` in the same unit of work
(purpose ``register``, ``change``, ``view``, ``search``, ``assign``, ``interaction log``);
an actor without ``customer.read`` gets the file with its personal data redacted
(:func:`~csdomain.customers.redacted`) and nothing is recorded.

The account manager (客户所属的客户经理) contacts a newly assigned customer within
:attr:`~csdomain.customers.CustomerPolicy.first_contact_within`
(:meth:`CustomerDesk.overdue_first_contacts` lists the late ones); a leaving employee's
customers go to a successor in one unit of work (:meth:`CustomerDesk.hand_over_customers`);
contacts go into the interaction log (:meth:`CustomerDesk.record_interaction`, and
:func:`log_interaction` for other use cases inside their own unit of work).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from csdomain.audit import AccessRecord
from csdomain.auth import Actor, Permission, normal_identity, same_identity
from csdomain.calendar import QuietHours
from csdomain.customers import (
    Customer,
    CustomerClass,
    CustomerHandover,
    DueContact,
    DuplicateContactWarning,
    Interaction,
    InteractionChannel,
    duplicate_contacts,
    handover_id,
    interaction_id,
    next_customer_code,
    redacted,
    redacted_interaction,
    require_filing_for_shared_account,
)
from csdomain.desk.args import Id, LongText, Positive, ShortText
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import ValidationError
from csdomain.kinds import ACCESS_LOG, CUSTOMER_HANDOVERS, CUSTOMERS, INTERACTIONS
from csdomain.money import Money
from csdomain.store import Repository, UnitOfWork


__all__ = [
    "CUSTOMER_ID_COUNTER",
    "UNCHANGED",
    "CustomerChange",
    "CustomerDesk",
    "CustomerRegistration",
    "log_interaction",
]

#: Name of the store counter behind generated customer ids (``CU-000001``).
CUSTOMER_ID_COUNTER = "customer.id"


class CustomerRegistration(NamedTuple):
    """What :meth:`CustomerDesk.register_customer` returns: the saved file and the warning.

    A named tuple, so ``registration.customer`` reads as what it is and the pair still
    unpacks (``customer, warning = desk.register_customer(...)``).
    """

    #: The customer file as saved (redacted for an actor without ``customer.read``).
    customer: Customer
    #: Other customers with the same phone number or bank account; ``None`` when none.
    warning: DuplicateContactWarning | None


class CustomerChange(NamedTuple):
    """What :meth:`CustomerDesk.change_customer` returns: the changed file and the warning
    of the duplicate check run again; unpacks as the pair, like
    :class:`CustomerRegistration`."""

    #: The customer file after the change (redacted for an actor without ``customer.read``).
    customer: Customer
    #: Other customers with the same phone number or bank account; ``None`` when none.
    warning: DuplicateContactWarning | None


class _Unchanged:
    """The default of a :meth:`CustomerDesk.change_customer` field: keep the value."""

    def __repr__(self) -> str:
        return "UNCHANGED"


#: The default of every field of :meth:`CustomerDesk.change_customer`: not changed.
UNCHANGED: Any = _Unchanged()


def _codes_starting_with(repo: Repository[Customer], prefix: str) -> int:
    """How many stored customer codes start with ``prefix`` (a range on the code index)."""
    if not prefix:
        return repo.count()
    last = ord(prefix[-1])
    if last >= 0x10FFFF:
        return sum(1 for c in repo.scan(code__ge=prefix) if c.code.startswith(prefix))
    following = last + 1 if not 0xD800 <= last + 1 <= 0xDFFF else 0xE000
    return repo.count(code__ge=prefix, code__lt=prefix[:-1] + chr(following))


def _others(repo: Repository[Customer], customer: Customer) -> list[Customer]:
    """Customers that may share a phone number or bank account with ``customer``."""
    found: dict[str, Customer] = {}
    if customer.phone_tail:
        found.update((c.id, c) for c in repo.scan(phone_tail=customer.phone_tail))
    if customer.bank_account_key:
        found.update((c.id, c) for c in repo.scan(bank_account_key=customer.bank_account_key))
    found.pop(customer.id, None)
    return list(found.values())


def log_interaction(
    uow: UnitOfWork,
    *,
    customer_id: str,
    channel: InteractionChannel | str,
    summary: str,
    at: datetime,
    by: str,
    source: str = "",
    subject_id: str = "",
) -> Interaction:
    """Add one contact to ``customer_id``'s interaction log inside the caller's unit of work.

    Source: docs/domain.md 9 (the contact report, 联系者报告制度) and 3.5 (visits go into a
    visit log). For use cases of other areas that contact a customer (a complaint's
    follow-up visit, a care touch-point): they call it with their own ``uow`` so the entry
    is written with their change or not at all. The customer must exist (``NotFound``);
    the account manager's contact ends the wait for a first contact. Emits
    :class:`~csdomain.customers.InteractionRecorded`.
    """
    customers = uow.repo(CUSTOMERS)
    customer = customers.get(customer_id)
    entry = Interaction(
        id=interaction_id(at, uow.store.tokens()),
        customer_id=customer_id,
        channel=channel,
        at=at,
        by=by,
        summary=summary,
        source=source,
        subject_id=subject_id,
    )
    uow.repo(INTERACTIONS).add(entry)
    if INTERACTIONS.events is not None:
        for event in INTERACTIONS.events(None, entry):
            uow.emit(event, at=at)
    after = customer.contacted(by=by, at=at)
    if after is not customer:
        customers.update(after)
    return entry


class CustomerDesk(DeskBase):
    """Customer-file use cases of the service desk (docs/domain.md 1)."""

    def _duplicates(
        self, repo: Repository[Customer], customer: Customer
    ) -> DuplicateContactWarning | None:
        return duplicate_contacts(
            customer,
            _others(repo, customer),
            country_code=self.policy.customers.phone_country_code,
        )

    def _show_customers(
        self, uow: UnitOfWork, customers: Iterable[Customer], by: Actor, purpose: str
    ) -> list[Customer]:
        """The files as ``by`` may see them, each read on record (docs/domain.md 1).

        An actor holding ``customer.read`` gets them whole and one access record per file;
        any other actor gets them redacted and nothing is recorded.
        """
        files = list(customers)
        if not self.may_read_personal(by):
            return [redacted(customer) for customer in files]
        self.record_access(uow, [customer.id for customer in files], by, purpose)
        return files

    def _show_customer(
        self, uow: UnitOfWork, customer: Customer, by: Actor, purpose: str
    ) -> Customer:
        (shown,) = self._show_customers(uow, [customer], by, purpose)
        return shown

    def _check_bank_account(
        self, repo: Repository[Customer], customer: Customer
    ) -> DuplicateContactWarning | None:
        """The duplicate warning; a bank account shared without a filing document is refused."""
        warning = self._duplicates(repo, customer)
        require_filing_for_shared_account(customer, warning)
        return warning

    @use_case(Permission.EDIT_CUSTOMER)
    def register_customer(
        self,
        uow: UnitOfWork,
        *,
        name: ShortText,
        city: ShortText,
        by: Actor,
        customer_class: CustomerClass | str = CustomerClass.ORDINARY,
        legal_representative: ShortText = "",
        phone: ShortText = "",
        fax: ShortText = "",
        email: ShortText = "",
        address: LongText = "",
        postcode: ShortText = "",
        bank_account: ShortText = "",
        business_scope: LongText = "",
        registered_capital: Money | None = None,
        rest_hours: QuietHours | None = None,
        birthday: date | None = None,
        code_name: ShortText | None = None,
        id: Id | None = None,
        market_type: ShortText = "",
        customer_type: ShortText = "",
        delivery_route: ShortText = "",
        account_manager: Id | None = None,
        filing_document: ShortText = "",
        language: ShortText = "",
    ) -> CustomerRegistration:
        """Open a customer file with the next customer code; warn about shared contacts.

        Source: docs/domain.md 1 (customer codes ``city - YYYYMM - name - serial``, the
        serial counting the customers of the city and month; duplicate phone numbers and
        bank accounts are a warning) and 9 (onboarding fields: market type, customer type,
        delivery route, the account manager, whose first contact is then due within
        :attr:`~csdomain.customers.CustomerPolicy.first_contact_within`; a bank account
        already on another customer needs ``filing_document``, else ``shared_bank_account``).
        In a store whose codes were numbered per name, the serial of a city and month
        continues after the codes already given there. ``code_name`` is the name written
        into the code (default ``name``); ``id`` defaults to the next ``CU-000001``. Needs
        ``customer.edit``; the returned file is on record (purpose ``register``).
        ``language`` is the language of the customer's messages (``zh-CN``, ``en``; empty:
        the policy's). Returns a :class:`CustomerRegistration`: ``.customer`` is the saved
        file, ``.warning`` a :class:`~csdomain.customers.DuplicateContactWarning` or ``None``
        (it unpacks as the pair ``customer, warning``).
        """
        if code_name is not None and not code_name.strip():
            raise ValidationError.at("code_name", "must not be empty")
        now = self.now()
        repo = uow.repo(CUSTOMERS)
        code = next_customer_code(
            uow,
            at=now,
            city=city,
            name=code_name or name,
            policy=self.policy.customers,
            codes_in_use=lambda prefix: _codes_starting_with(repo, prefix),
        )
        customer = Customer.register(
            id=id or f"CU-{uow.next_counter(CUSTOMER_ID_COUNTER):06d}",
            code=code,
            name=name,
            at=now,
            by=by,
            access=self.policy.access,
            customer_class=CustomerClass(customer_class),
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
            market_type=market_type,
            customer_type=customer_type,
            delivery_route=delivery_route,
            account_manager=account_manager or "",
            first_contact_within=self.policy.customers.first_contact_within,
            bank_account_filing=filing_document.strip() if bank_account else "",
            language=language,
        )
        warning = self._check_bank_account(repo, customer)
        saved = self.create(uow, CUSTOMERS, customer)
        return CustomerRegistration(self._show_customer(uow, saved, by, "register"), warning)

    @use_case(Permission.EDIT_CUSTOMER)
    def change_customer(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        by: Actor,
        customer_class: CustomerClass | str = UNCHANGED,
        name: ShortText = UNCHANGED,
        legal_representative: ShortText = UNCHANGED,
        phone: ShortText = UNCHANGED,
        fax: ShortText = UNCHANGED,
        email: ShortText = UNCHANGED,
        address: LongText = UNCHANGED,
        postcode: ShortText = UNCHANGED,
        city: ShortText = UNCHANGED,
        bank_account: ShortText = UNCHANGED,
        business_scope: LongText = UNCHANGED,
        registered_capital: Money | None = UNCHANGED,
        rest_hours: QuietHours | None = UNCHANGED,
        birthday: date | None = UNCHANGED,
        market_type: ShortText = UNCHANGED,
        customer_type: ShortText = UNCHANGED,
        delivery_route: ShortText = UNCHANGED,
        language: ShortText = UNCHANGED,
        document: ShortText = "",
        filing_document: ShortText = "",
    ) -> CustomerChange:
        """Change fields of a customer file, keeping the old values in its change log.

        Source: docs/domain.md 1 (changes are recorded, not overwritten; the duplicate check
        runs again on the changed file; a class decides credit and prices) and 9 (a bank
        change needs its supporting copies; a bank account already on another customer
        needs a filing document). Needs ``customer.edit``; a change of ``customer_class``
        also ``customer.classify``. A change of phone or bank account needs ``document``
        (the reference of the supporting copies, kept in the log); a new bank account that
        another customer has needs ``filing_document`` (``shared_bank_account``). Only the
        fields given change (``birthday=None`` clears a birthday); a change that changes
        nothing writes nothing and emits nothing. The returned file is a read on record
        (purpose ``change``), whether anything changed or not. Returns a
        :class:`CustomerChange` (``.customer``, ``.warning``; it unpacks as the pair).
        """
        given = {
            "customer_class": customer_class,
            "name": name,
            "legal_representative": legal_representative,
            "phone": phone,
            "fax": fax,
            "email": email,
            "address": address,
            "postcode": postcode,
            "city": city,
            "bank_account": bank_account,
            "business_scope": business_scope,
            "registered_capital": registered_capital,
            "rest_hours": rest_hours,
            "birthday": birthday,
            "market_type": market_type,
            "customer_type": customer_type,
            "delivery_route": delivery_route,
            "language": language,
        }
        fields = {field: value for field, value in given.items() if value is not UNCHANGED}
        now = self.now()
        repo = uow.repo(CUSTOMERS)
        before = repo.get(customer_id)
        after = before.change(
            at=now,
            by=by,
            access=self.policy.access,
            document=document,
            filing_document=filing_document,
            **fields,
        )
        if after.bank_account_key and after.bank_account != before.bank_account:
            warning = self._check_bank_account(repo, after)
        else:
            warning = self._duplicates(repo, after)
        if after != before:
            repo.update(after)
            self.emit_events(uow, CUSTOMERS, before, after)
        return CustomerChange(self._show_customer(uow, after, by, "change"), warning)

    @use_case(Permission.READ_CUSTOMER)
    def get_customer(
        self, uow: UnitOfWork, customer_id: Id, *, by: Actor, purpose: ShortText = "view"
    ) -> Customer:
        """Read a customer file; the read is recorded in the access log.

        Source: docs/domain.md 1 (nobody reads a customer file without permission). Needs
        ``customer.read``. This is a writing unit of work: the :class:`AccessRecord` is
        stored with the read, and a refused or failed read records nothing.
        """
        customer = uow.repo(CUSTOMERS).get(customer_id)
        return self._show_customer(uow, customer, by, purpose)

    @use_case(Permission.READ_CUSTOMER, readonly=True)
    def access_log(self, uow: UnitOfWork, customer_id: Id, *, by: Actor) -> list[AccessRecord]:
        """Who read a customer file and when, newest first (needs ``customer.read``).

        An unknown customer id has an empty log (the log outlives an erased file).
        """
        return uow.repo(ACCESS_LOG).find(customer_id=customer_id, order_by=["-at", "-key"])

    @use_case(Permission.READ_CUSTOMER)
    def find_customers(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        city: ShortText | None = None,
        customer_class: CustomerClass | str | None = None,
        code: LongText | None = None,
        limit: Positive = 50,
        purpose: ShortText = "search",
    ) -> list[Customer]:
        """Customer files matching every given filter, by code, at most ``limit``.

        Needs ``customer.read``. A search shows whole files, so every customer returned
        gets an access record, exactly as :meth:`get_customer` does (docs/domain.md 1); the
        ``purpose`` written into each record is short text. A ``code`` holds a city and a
        name, so it may be longer than one short text.
        """
        filters = {"city": city, "customer_class": customer_class, "code": code}
        where: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        found = uow.repo(CUSTOMERS).find(order_by="code", limit=limit, **where)
        return self._show_customers(uow, found, by, purpose)

    # -- account managers (docs/domain.md 9) -----------------------------------------------

    @use_case(Permission.EDIT_CUSTOMER)
    def assign_account_manager(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        manager: Id,
        by: Actor,
        document: ShortText = "",
    ) -> Customer:
        """Make ``manager`` the customer's account manager; their first contact is then due.

        Source: docs/domain.md 9 (确定客户所属的客户经理; a newly assigned customer is
        contacted within a week, :attr:`~csdomain.customers.CustomerPolicy.first_contact_within`).
        Needs ``customer.edit`` for a customer without a manager; taking a customer from
        another manager also needs ``customer.assign`` (a manager's decision, like a
        handover). The change is in the file's log; the file returned is on record
        (purpose ``assign``).
        """
        now = self.now()
        repo = uow.repo(CUSTOMERS)
        before = repo.get(customer_id)
        if before.account_manager and not same_identity(before.account_manager, manager):
            self.require(by, Permission.ASSIGN_CUSTOMER)
        after = before.assign_account_manager(
            manager,
            at=now,
            by=by,
            access=self.policy.access,
            within=self.policy.customers.first_contact_within,
            document=document,
        )
        if after is not before:
            repo.update(after)
            self.emit_events(uow, CUSTOMERS, before, after)
        return self._show_customer(uow, after, by, "assign")

    @use_case(Permission.READ_CUSTOMER, Permission.VIEW_REPORTS, readonly=True)
    def overdue_first_contacts(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        at: datetime | None = None,
        manager: Id | None = None,
        limit: Positive = 100,
    ) -> list[DueContact]:
        """Customers whose new account manager has not contacted them in time, most late first.

        Source: docs/domain.md 9 (a newly assigned customer is contacted within a week).
        Due by ``at`` (default now); ``manager`` keeps one account manager's. The result
        holds ids, codes, staff ids and due times, no personal data, so nothing is recorded.
        Needs ``customer.read`` or ``report.view``.
        """
        moment = self.now() if at is None else at
        where: dict[str, Any] = {"first_contact_due__lt": moment}
        if manager is not None:
            where["account_manager"] = normal_identity(manager)
        found = uow.repo(CUSTOMERS).find(
            order_by=["first_contact_due", "key"], limit=limit, **where
        )
        return [DueContact.of(customer) for customer in found]

    @use_case(Permission.EDIT_CUSTOMER)
    def hand_over_customers(
        self,
        uow: UnitOfWork,
        *,
        leaving: Id,
        successor: Id,
        by: Actor,
        reason: ShortText = "",
    ) -> CustomerHandover:
        """Give every customer of a leaving employee to a successor, in one unit of work.

        Source: docs/domain.md 9 (when staff leave, 及时通知有关客户,并指派其员工接替; staff who
        leave cannot take customer data, 1). Needs ``customer.edit`` and ``customer.assign``
        (a manager's decision). Each file's log names the :class:`CustomerHandover` record as
        the document of its new manager, whose first contact is due within a week; the
        record lists the customers (ids only). All files change or none.
        """
        self.require(by, Permission.ASSIGN_CUSTOMER)
        if same_identity(leaving, successor):
            raise ValidationError.at("successor", "the successor is the employee who leaves")
        now = self.now()
        record_id = handover_id(now, self.store.tokens())
        repo = uow.repo(CUSTOMERS)
        handed: list[str] = []
        within = self.policy.customers.first_contact_within
        for before in repo.find(account_manager=normal_identity(leaving), order_by="key"):
            after = before.assign_account_manager(
                successor,
                at=now,
                by=by,
                access=self.policy.access,
                within=within,
                document=record_id,
            )
            repo.update(after)
            self.emit_events(uow, CUSTOMERS, before, after)
            handed.append(before.id)
        record = CustomerHandover(
            id=record_id,
            leaving=leaving,
            successor=successor,
            customer_ids=tuple(handed),
            at=now,
            by=by.id,
            reason=reason,
        )
        return self.create(uow, CUSTOMER_HANDOVERS, record)

    # -- the interaction log (docs/domain.md 9 and 3.5) -------------------------------------

    @use_case(Permission.EDIT_CUSTOMER, Permission.HANDLE_COMPLAINT)
    def record_interaction(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        channel: InteractionChannel | str,
        summary: LongText,
        by: Actor,
        at: datetime | None = None,
        source: ShortText = "",
        subject_id: ShortText = "",
    ) -> Interaction:
        """Add a call, visit, letter or message to the customer's interaction log.

        Source: docs/domain.md 9 (the contact report, 联系者报告制度; the account manager's
        first contact) and 3.5 (visit records go into a log). Needs ``customer.edit`` or
        ``complaint.handle``. ``at`` (default now) cannot be in the future; the summary
        must not be blank. See :func:`log_interaction`.
        """
        now = self.now()
        moment = now if at is None else at
        if moment > now:
            raise ValidationError.at("at", "a contact cannot be recorded before it happens")
        if not summary.strip():
            raise ValidationError.at("summary", "must not be blank")
        return log_interaction(
            uow,
            customer_id=customer_id,
            channel=channel,
            summary=summary,
            at=moment,
            by=by.id,
            source=source,
            subject_id=subject_id,
        )

    @use_case(Permission.READ_CUSTOMER, Permission.HANDLE_COMPLAINT)
    def interaction_log(
        self,
        uow: UnitOfWork,
        customer_id: Id,
        *,
        by: Actor,
        channel: InteractionChannel | str | None = None,
        limit: Positive = 100,
        purpose: ShortText = "interaction log",
    ) -> list[Interaction]:
        """The customer's contacts, newest first, at most ``limit`` (a personal-data read).

        Source: docs/domain.md 9 and 1 (nobody reads a customer's data without it being on
        record). Needs ``customer.read`` (a non-empty log leaves an access record) or
        ``complaint.handle`` (without ``customer.read``: the summaries are redacted).
        """
        where: dict[str, Any] = {"customer_id": customer_id}
        if channel is not None:
            where["channel"] = channel
        found = uow.repo(INTERACTIONS).find(order_by=["-at", "-key"], limit=limit, **where)
        if not found:
            return []
        if not self.may_read_personal(by):
            return [redacted_interaction(entry) for entry in found]
        self.record_access(uow, [customer_id], by, purpose)
        return found
