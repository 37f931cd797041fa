"""Use cases for customer files: register, change, read (with an access log) and search.

Source: docs/domain.md 1. Customer codes come from the store-backed naming series
(``city - YYYYMM - name - 3-digit serial``); changes are kept in the file's change log;
the same phone number or bank account on another customer comes back as a
:class:`~csdomain.customers.DuplicateContactWarning` next to the saved file; and nobody
reads a customer file without ``customer.read``: every read that shows files to a person
(:meth:`CustomerDesk.get_customer`, :meth:`CustomerDesk.find_customers`) leaves an
:class:`~csdomain.audit.AccessRecord` in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from csdomain.audit import AccessRecord, access_record
from csdomain.auth import Actor, Permission
from csdomain.calendar import QuietHours
from csdomain.customers import (
    Customer,
    CustomerClass,
    DuplicateContactWarning,
    duplicate_contacts,
    next_customer_code,
)
from csdomain.desk.args import Id, LongText, Positive, ShortText
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import ValidationError
from csdomain.kinds import ACCESS_LOG, CUSTOMERS
from csdomain.money import Money
from csdomain.store import Repository, UnitOfWork


__all__ = ["CUSTOMER_ID_COUNTER", "UNCHANGED", "CustomerDesk"]

#: Name of the store counter behind generated customer ids (``CU-000001``).
CUSTOMER_ID_COUNTER = "customer.id"


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

    def _record_access(
        self, uow: UnitOfWork, customers: Iterable[Customer], by: Actor, purpose: str
    ) -> None:
        """Leave one access record per customer file shown to ``by`` (docs/domain.md 1)."""
        now = self.now()
        uow.repo(ACCESS_LOG).add_many(
            access_record(customer.id, by=by.id, at=now, purpose=purpose, token=self.store.tokens())
            for customer in customers
        )

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
    ) -> tuple[Customer, DuplicateContactWarning | None]:
        """Open a customer file with the next customer code; warn about shared contacts.

        Source: docs/domain.md 1 (customer codes ``city - YYYYMM - name - serial``, the
        serial counting the customers of the city and month; duplicate phone numbers and
        bank accounts are a warning). In a store whose codes were numbered per name, the
        serial of a city and month continues after the codes already given there.
        ``code_name`` is the name written into the code (default ``name``); ``id``
        defaults to the next ``CU-000001``. Needs ``customer.edit``.
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
        )
        warning = self._duplicates(uow.repo(CUSTOMERS), customer)
        return self.create(uow, CUSTOMERS, customer), warning

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
    ) -> tuple[Customer, DuplicateContactWarning | None]:
        """Change fields of a customer file, keeping the old values in its change log.

        Source: docs/domain.md 1 (changes are recorded, not overwritten; the duplicate check
        runs again on the changed file). Needs ``customer.edit``. Only the fields given
        change (``birthday=None`` clears a birthday); a change that changes nothing
        writes nothing and emits nothing.
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
        }
        fields = {field: value for field, value in given.items() if value is not UNCHANGED}
        now = self.now()
        after = self.change(
            uow,
            CUSTOMERS,
            customer_id,
            lambda customer: customer.change(at=now, by=by, access=self.policy.access, **fields),
        )
        return after, self._duplicates(uow.repo(CUSTOMERS), after)

    @use_case(Permission.READ_CUSTOMER)
    def get_customer(
        self, uow: UnitOfWork, customer_id: Id, *, by: Actor, purpose: ShortText = ""
    ) -> Customer:
        """Read a customer file; the read is recorded in the access log.

        Source: docs/domain.md 1 (nobody reads a customer file without permission). Needs
        ``customer.read``. This is a writing unit of work: the :class:`AccessRecord` is
        stored with the read, and a refused or failed read records nothing.
        """
        customer = uow.repo(CUSTOMERS).get(customer_id)
        self._record_access(uow, [customer], by, purpose)
        return customer

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
        purpose: ShortText = "",
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
        self._record_access(uow, found, by, purpose)
        return found
