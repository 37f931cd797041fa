"""Use cases for customer files: register, change, read (with an access log) and search.

Source: DOMAIN.md 1. Customer codes come from the store-backed naming series
(``city - YYYYMM - name - 3-digit serial``); changes are kept in the file's change log;
the same phone number or bank account on another customer comes back as a
:class:`~csdomain.customers.DuplicateContactWarning` next to the saved file; and nobody
reads a customer file without ``customer.read``: every read that shows files to a person
(:meth:`CustomerDesk.get_customer`, :meth:`CustomerDesk.find_customers`) leaves an
:class:`~csdomain.audit.AccessRecord` in the same unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from csdomain.audit import AccessRecord
from csdomain.auth import Actor, Permission
from csdomain.calendar import QuietHours
from csdomain.customers import (
    Customer,
    CustomerClass,
    DuplicateContactWarning,
    customer_events,
    duplicate_contacts,
    next_customer_code,
)
from csdomain.desk.args import actor as _actor
from csdomain.desk.args import key as _key
from csdomain.desk.args import optional_text as _optional_text
from csdomain.desk.args import text as _text
from csdomain.desk.base import DeskBase
from csdomain.errors import ValidationError
from csdomain.kinds import ACCESS_LOG, CUSTOMERS
from csdomain.money import Money
from csdomain.store import Repository, UnitOfWork


__all__ = ["CUSTOMER_ID_COUNTER", "CustomerDesk"]

#: Name of the store counter behind generated customer ids (``CU-000001``).
CUSTOMER_ID_COUNTER = "customer.id"


def _customer_class(value: object) -> CustomerClass:
    try:
        return CustomerClass(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValidationError.at("customer_class", f"not a customer class: {value!r}") from None


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError.at("limit", f"must be a positive integer, got {value!r}")
    return value


def _access_record_id(at: datetime) -> str:
    return f"AR-{at:%Y%m%d%H%M%S%f}-{uuid.uuid4().hex[:12]}"


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
    """Customer-file use cases of the service desk (DOMAIN.md 1)."""

    def _duplicates(
        self, repo: Repository[Customer], customer: Customer
    ) -> DuplicateContactWarning | None:
        return duplicate_contacts(
            customer,
            _others(repo, customer),
            country_code=self.policy.customers.phone_country_code,
        )

    def _record_access(
        self, uow: UnitOfWork, customers: Iterable[Customer], by: Actor, at: datetime, purpose: str
    ) -> None:
        uow.repo(ACCESS_LOG).add_many(
            AccessRecord(
                id=_access_record_id(at),
                customer_id=customer.id,
                actor_id=by.id,
                at=at,
                purpose=purpose,
            )
            for customer in customers
        )

    def register_customer(
        self,
        *,
        name: str,
        city: str,
        by: Actor,
        customer_class: CustomerClass | str = CustomerClass.ORDINARY,
        legal_representative: str = "",
        phone: str = "",
        fax: str = "",
        email: str = "",
        address: str = "",
        postcode: str = "",
        bank_account: str = "",
        business_scope: str = "",
        registered_capital: Money | None = None,
        rest_hours: QuietHours | None = None,
        birthday: date | None = None,
        code_name: str | None = None,
        id: str | None = None,
    ) -> tuple[Customer, DuplicateContactWarning | None]:
        """Open a customer file with the next customer code; warn about shared contacts.

        Source: DOMAIN.md 1 (customer codes ``city - YYYYMM - name - serial``, duplicate
        phone numbers and bank accounts are a warning). ``code_name`` is the name written
        into the code (default ``name``); ``id`` defaults to the next ``CU-000001``.
        Needs ``customer.edit``.
        """
        actor = _actor(by)
        self.require(actor, Permission.EDIT_CUSTOMER)
        _key(name, "name")
        _key(city, "city")
        for path, value in (
            ("name", name),
            ("city", city),
            ("legal_representative", legal_representative),
            ("phone", phone),
            ("fax", fax),
            ("email", email),
            ("postcode", postcode),
            ("bank_account", bank_account),
        ):
            self.bounded_text(value, path, long=False)
        self.bounded_text(address, "address")
        self.bounded_text(business_scope, "business_scope")
        written = _key(code_name, "code_name") if code_name is not None else name
        wanted_id = None if id is None else _key(id, "id")
        klass = _customer_class(customer_class)

        def work(uow: UnitOfWork) -> tuple[Customer, DuplicateContactWarning | None]:
            now = self.now()
            repo = uow.repo(CUSTOMERS)
            code = next_customer_code(
                uow, at=now, city=city, name=written, policy=self.policy.customers
            )
            customer_id = wanted_id or f"CU-{uow.next_counter(CUSTOMER_ID_COUNTER):06d}"
            customer = Customer.register(
                id=customer_id,
                code=code,
                name=name,
                at=now,
                by=actor,
                access=self.policy.access,
                customer_class=klass,
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
            warning = self._duplicates(repo, customer)
            repo.add(customer)
            for event in customer_events(None, customer):
                uow.emit(event, at=now)
            return customer, warning

        return self.run(work)

    def change_customer(
        self, customer_id: str, *, by: Actor, **fields: Any
    ) -> tuple[Customer, DuplicateContactWarning | None]:
        """Change fields of a customer file, keeping the old values in its change log.

        Source: DOMAIN.md 1 (changes are recorded, not overwritten; the duplicate check
        runs again on the changed file). Needs ``customer.edit``. A change that changes
        nothing writes nothing and emits nothing.
        """
        actor = _actor(by)
        _key(customer_id, "customer_id")
        for path, value in fields.items():
            if isinstance(value, str):
                self.bounded_text(value, path)

        def work(uow: UnitOfWork) -> tuple[Customer, DuplicateContactWarning | None]:
            now = self.now()
            repo = uow.repo(CUSTOMERS)
            before = repo.get(customer_id)
            after = before.change(at=now, by=actor, access=self.policy.access, **fields)
            warning = self._duplicates(repo, after)
            if after is not before:
                repo.update(after)
                for event in customer_events(before, after):
                    uow.emit(event, at=now)
            return after, warning

        return self.run(work)

    def get_customer(self, customer_id: str, *, by: Actor, purpose: str = "") -> Customer:
        """Read a customer file; the read is recorded in the access log.

        Source: DOMAIN.md 1 (nobody reads a customer file without permission). Needs
        ``customer.read``. This is a writing unit of work: the :class:`AccessRecord` is
        stored with the read, and a refused or failed read records nothing.
        """
        actor = _actor(by)
        self.require(actor, Permission.READ_CUSTOMER)
        _key(customer_id, "customer_id")
        self.bounded_text(purpose, "purpose", long=False)

        def work(uow: UnitOfWork) -> Customer:
            now = self.now()
            customer = uow.repo(CUSTOMERS).get(customer_id)
            self._record_access(uow, [customer], actor, now, purpose)
            return customer

        return self.run(work)

    def access_log(self, customer_id: str, *, by: Actor) -> list[AccessRecord]:
        """Who read a customer file and when, newest first (needs ``customer.read``).

        An unknown customer id has an empty log (the log outlives an erased file).
        """
        actor = _actor(by)
        self.require(actor, Permission.READ_CUSTOMER)
        _key(customer_id, "customer_id")

        def work(uow: UnitOfWork) -> list[AccessRecord]:
            return uow.repo(ACCESS_LOG).find(customer_id=customer_id, order_by=["-at", "-key"])

        return self.run(work, readonly=True)

    def find_customers(
        self,
        *,
        by: Actor,
        city: str | None = None,
        customer_class: CustomerClass | str | None = None,
        code: str | None = None,
        limit: int = 50,
        purpose: str = "",
    ) -> list[Customer]:
        """Customer files matching every given filter, by code, at most ``limit``.

        Needs ``customer.read``. A search shows whole files, so every customer returned
        gets an access record, exactly as :meth:`get_customer` does (DOMAIN.md 1).
        """
        actor = _actor(by)
        self.require(actor, Permission.READ_CUSTOMER)
        where: dict[str, Any] = {}
        if _optional_text(city, "city") is not None:
            where["city"] = city
        if customer_class is not None:
            where["customer_class"] = _customer_class(customer_class)
        if _optional_text(code, "code") is not None:
            where["code"] = code
        wanted = _limit(limit)
        _text(purpose, "purpose")

        def work(uow: UnitOfWork) -> list[Customer]:
            now = self.now()
            found = uow.repo(CUSTOMERS).find(order_by="code", limit=wanted, **where)
            self._record_access(uow, found, actor, now, purpose)
            return found

        return self.run(work)
