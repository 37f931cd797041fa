"""Use cases of warranty claims and the three guarantees (docs/domain.md 4).

Each use case goes through the desk's skeleton (:func:`~csdomain.desk.base.use_case`):
its arguments are checked from their annotations, the permission before anything is
loaded, then one unit of work loads the :class:`WarrantyClaimCase`, calls its method with
the desk's clock, policy and access rules, saves it and puts the step's event
(:func:`~csdomain.warranty.event_for_last_change`, declared by the kind) in the outbox.
Decisions use the built-in rules plus every rule the plugins add through
``csdomain_warranty_rules`` (:func:`rules_from_plugins`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pluggy

from csdomain.auth import Actor, Permission
from csdomain.desk.args import Count, Id, LongText, Positive
from csdomain.desk.base import DeskBase, checked, use_case
from csdomain.desk.privacy import MASKED, PersonalDataRedactor, scrub
from csdomain.errors import (
    AlreadyExists,
    NotFound,
    PluginError,
    RuleViolation,
    ValidationError,
    describe,
)
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    COMPLAINTS,
    CUSTOMERS,
    ORDERS,
    PRODUCT_FILES,
    RULE_GUARDS,
    SERVICE_ORDERS,
    SERVICE_POINTS,
    WARRANTY_CLAIMS,
)
from csdomain.store import UnitOfWork
from csdomain.warranty import (
    ExchangeRecord,
    OutlierFlag,
    PartQuote,
    ProductRecord,
    QualityTrend,
    RefundRecord,
    Remedy,
    RepairRecord,
    RuleGuard,
    ServiceBom,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
    WarrantyClaimCase,
    WarrantyClaimStatus,
    WarrantyRule,
    check_extra_rules,
    claim_rate_outliers,
    quote_part,
)


__all__ = [
    "WarrantyDesk",
    "claim_guard",
    "file_warranty_claim",
    "rules_from_plugins",
]


def rules_from_plugins(pm: pluggy.PluginManager) -> tuple[WarrantyRule, ...]:
    """Every rule the plugins on ``pm`` add through ``csdomain_warranty_rules``.

    Raises :class:`~csdomain.errors.PluginError` for a plugin answer that is not a list of
    rules, and (:func:`~csdomain.warranty.check_extra_rules`) for an object that is not a
    :class:`~csdomain.warranty.WarrantyRule` or for a code used twice (built-in codes
    included).
    """
    candidates: list[object] = []
    for batch in pm.hook.csdomain_warranty_rules():
        if batch is None:
            continue
        if isinstance(batch, str | bytes) or not isinstance(batch, Iterable):
            msg = f"a csdomain_warranty_rules plugin returned {describe(batch)}, not a list"
            raise PluginError(msg)
        candidates.extend(batch)
    return check_extra_rules(candidates)


_OPEN_CLAIM_RULE = "open_warranty_claim"


def claim_guard(case: WarrantyClaimCase) -> RuleGuard:
    """The guard of ``case``'s slot: one active claim per product and fault."""
    return RuleGuard.of(
        _OPEN_CLAIM_RULE, case.claim.fault_identity, holder=case.id, at=case.history[-1].at
    )


def _already_open(case: WarrantyClaimCase, other: str) -> RuleViolation:
    serial, _fault = case.claim.fault_identity
    return RuleViolation(
        "claim_already_open",
        f"product {describe(serial)} already has an active claim for this fault: "
        f"{describe(other)}; close it first",
        claim_id=other,
        product_serial=serial,
    )


def _hold_fault(uow: UnitOfWork, case: WarrantyClaimCase) -> None:
    """Take ``case``'s product-and-fault slot, or refuse with ``claim_already_open``.

    Adding the guard is the write a competing claim for the same fault conflicts on; the
    scan finds active claims stored before guards existed.
    """
    identity = case.claim.fault_identity
    for other in uow.repo(WARRANTY_CLAIMS).scan(
        product_serial=case.claim.product_serial, status__ne=WarrantyClaimStatus.CLOSED
    ):
        if other.id != case.id and other.claim.fault_identity == identity:
            raise _already_open(case, other.id)
    guard = claim_guard(case)
    try:
        uow.repo(RULE_GUARDS).add(guard)
    except AlreadyExists:
        raise _already_open(case, "another claim") from None


def _release_fault(uow: UnitOfWork, case: WarrantyClaimCase) -> None:
    """Give back the slot ``case`` holds (a closed claim, or facts that name another fault)."""
    repo = uow.repo(RULE_GUARDS)
    key = claim_guard(case).id
    if repo.exists(key) and repo.get(key).holder == case.id:
        repo.delete(key)


def file_warranty_claim(desk: DeskBase, uow: UnitOfWork, case: WarrantyClaimCase) -> None:
    """Store a new claim in ``uow`` under the one-active-claim-per-fault rule, with its event.

    For every path that creates claims (the warranty desk, field service's covered work):
    a second active claim for the same product and fault (:attr:`WarrantyClaim.fault_identity`)
    is refused with ``claim_already_open`` (docs/domain.md 4), also when both are filed at
    the same moment (issue #19 item 6).
    """
    _hold_fault(uow, case)
    desk.create(uow, WARRANTY_CLAIMS, case)


def _period(start: datetime, end: datetime) -> None:
    if end < start:
        raise ValidationError.at("end", "is before start")


class WarrantyDesk(DeskBase):
    """Warranty claims from submission to closing, decision analyses, fraud control, parts."""

    # -- the claim's lifecycle ---------------------------------------------------------

    @use_case(Permission.HANDLE_WARRANTY)
    def submit_warranty_claim(
        self,
        uow: UnitOfWork,
        claim: WarrantyClaim,
        *,
        customer_id: Id,
        by: Actor,
        product: ProductRecord | None = None,
        order_id: Id | None = None,
        complaint_id: Id | None = None,
        service_point_id: Id | None = None,
        note: LongText = "",
    ) -> WarrantyClaimCase:
        """Receive a claim with its product record for a known customer (docs/domain.md 4).

        The claim gets the next ``WC-{yyyy}{mm}-{seq:04d}`` number; the customer must be
        on file (claim material needs valid customer data), and so must every linked id:
        the order (``order_id``, else the product record's), the complaint and the service
        point that did the work (``service_point_id``, issue #18), else :class:`NotFound`.
        A product has at most one active (not closed) claim per fault
        (``claim_already_open``, :func:`file_warranty_claim`).

        The claim refers to the unit's product file (产品档案, issue #18) when there is one:
        without ``product`` the record is the file's (:class:`NotFound` if the serial has
        none); a ``product`` given for a unit on file must agree with the file's serial,
        model, category and sale date (``product_record_mismatch``), and the file's owner
        must be ``customer_id`` (``product_of_another_customer``).
        """
        now = self.now()
        uow.repo(CUSTOMERS).get(customer_id)
        product = self._product_of_claim(uow, claim, product, customer_id)
        linked_order = order_id if order_id is not None else product.order_id
        if linked_order is not None:
            uow.repo(ORDERS).get(linked_order)
        if complaint_id is not None:
            uow.repo(COMPLAINTS).get(complaint_id)
        if service_point_id is not None:
            uow.repo(SERVICE_POINTS).get(service_point_id)
        case = WarrantyClaimCase.submit(
            id=NamingSeries(self.policy.warranty.claim_number_pattern).next(uow, now),
            claim=claim,
            product=product,
            customer_id=customer_id,
            order_id=order_id,
            complaint_id=complaint_id,
            service_point_id=service_point_id,
            at=now,
            by=by,
            note=note,
        )
        file_warranty_claim(self, uow, case)
        return self._shown_claim(uow, case, by, "warranty claim submission")

    def _product_of_claim(
        self,
        uow: UnitOfWork,
        claim: WarrantyClaim,
        product: ProductRecord | None,
        customer_id: str,
    ) -> ProductRecord:
        """The product record a claim carries: the product file's, checked against ``product``."""
        serial = product.serial if product is not None else claim.product_serial
        stored = uow.repo(PRODUCT_FILES).get_or_none(serial)
        if stored is None:
            if product is None:
                raise NotFound("product_file", serial)
            return product
        if stored.customer_id != customer_id:
            raise RuleViolation(
                "product_of_another_customer",
                f"product {describe(serial)} is on file for customer "
                f"{describe(stored.customer_id)}, not {describe(customer_id)}",
                serial=serial,
            )
        on_file = stored.product_record()
        if product is None:
            return on_file
        differ = [
            name
            for name in ("serial", "model", "category", "sold_on")
            if getattr(product, name) != getattr(on_file, name)
        ]
        if differ:
            raise RuleViolation(
                "product_record_mismatch",
                f"the product record disagrees with the product file of {describe(serial)} "
                f"on {', '.join(differ)}",
                serial=serial,
                fields=differ,
            )
        return product

    @use_case(Permission.HANDLE_WARRANTY)
    def evaluate_warranty_claim(
        self,
        uow: UnitOfWork,
        case_id: Id,
        *,
        by: Actor,
        claim: WarrantyClaim | None = None,
        note: LongText = "",
    ) -> WarrantyClaimCase:
        """Decide a claim under the policy and the plugins' rules; ``claim`` brings new facts.

        The decision keeps its reasons and the policy version (docs/domain.md 4). A claim may
        be evaluated again while it is only evaluated (after inspection); new facts that name
        another fault move the claim to that fault's slot (``claim_already_open`` if it is
        taken).
        """
        extra = rules_from_plugins(self.plugin_manager)
        policy, now = self.policy.warranty, self.now()
        before = uow.repo(WARRANTY_CLAIMS).get(case_id)
        after = self.change(
            uow,
            WARRANTY_CLAIMS,
            case_id,
            lambda case: case.evaluate(
                policy, at=now, by=by, extra_rules=extra, claim=claim, note=note
            ),
        )
        if after.claim.fault_identity != before.claim.fault_identity:
            _hold_fault(uow, after)
            _release_fault(uow, before)
        return self._shown_claim(uow, after, by, "warranty claim evaluation")

    @use_case(Permission.HANDLE_WARRANTY)
    def approve_warranty_claim(
        self, uow: UnitOfWork, case_id: Id, *, by: Actor, note: LongText = ""
    ) -> WarrantyClaimCase:
        """Accept the rules' decision; a claim that is not covered needs an override."""
        now = self.now()
        case = self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.approve(at=now, by=by, note=note)
        )
        return self._shown_claim(uow, case, by, "warranty claim approval")

    @use_case(Permission.OVERRIDE_WARRANTY)
    def override_warranty_claim(
        self,
        uow: UnitOfWork,
        case_id: Id,
        remedies: Iterable[Remedy],
        *,
        reason: LongText,
        by: Actor,
    ) -> WarrantyClaimCase:
        """Grant remedies against the rules, with a written reason (docs/domain.md 3.6).

        Needs ``Permission.OVERRIDE_WARRANTY`` (the sales VP and above by default), checked
        before the claim is loaded.
        """
        access, now = self.policy.access, self.now()
        case = self.change(
            uow,
            WARRANTY_CLAIMS,
            case_id,
            lambda case: case.override(remedies, reason=reason, at=now, by=by, access=access),
        )
        return self._shown_claim(uow, case, by, "warranty claim override")

    @use_case(Permission.HANDLE_WARRANTY)
    def record_warranty_repair(
        self, uow: UnitOfWork, case_id: Id, record: RepairRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record a repair visit (technician, time, work, parts); repair must be allowed."""
        self._refuse_future(record)
        case = self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.record_repair(record, by=by)
        )
        return self._shown_claim(uow, case, by, "warranty repair")

    @use_case(Permission.HANDLE_WARRANTY)
    def record_warranty_exchange(
        self, uow: UnitOfWork, case_id: Id, record: ExchangeRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record the exchange for a new unit; exchange must be allowed."""
        self._refuse_future(record)
        case = self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.record_exchange(record, by=by)
        )
        return self._shown_claim(uow, case, by, "warranty exchange")

    @use_case(Permission.HANDLE_WARRANTY)
    def record_warranty_refund(
        self, uow: UnitOfWork, case_id: Id, record: RefundRecord, *, by: Actor
    ) -> WarrantyClaimCase:
        """Record the refund of the purchase price; refund must be allowed."""
        self._refuse_future(record)
        case = self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.record_refund(record, by=by)
        )
        return self._shown_claim(uow, case, by, "warranty refund")

    @use_case(Permission.HANDLE_WARRANTY)
    def close_warranty_claim(
        self, uow: UnitOfWork, case_id: Id, *, by: Actor, note: LongText = ""
    ) -> WarrantyClaimCase:
        """Close a claim; the outcome (repaired, exchanged, refunded, rejected, withdrawn)
        follows from where it stood. The product may then get a new claim for the fault."""
        now = self.now()
        closed = self.change(
            uow, WARRANTY_CLAIMS, case_id, lambda case: case.close(at=now, by=by, note=note)
        )
        _release_fault(uow, closed)
        return self._shown_claim(uow, closed, by, "warranty claim closing")

    # -- personal data -----------------------------------------------------------------

    def _shown_claim(
        self, uow: UnitOfWork, case: WarrantyClaimCase, by: Actor, purpose: str
    ) -> WarrantyClaimCase:
        """``case`` as ``by`` may see it (:meth:`_shown_claims`)."""
        return self._shown_claims(uow, [case], by, purpose)[0]

    def _shown_claims(
        self, uow: UnitOfWork, cases: list[WarrantyClaimCase], by: Actor, purpose: str
    ) -> list[WarrantyClaimCase]:
        """Claims as ``by`` may see them: the customer's data in a claim's free text (notes,
        work done, reasons) is personal data (docs/domain.md 1, 未经许可不得访问客户文件).

        To an actor with ``customer.read`` they are shown whole and the reading is on record
        (one access record per customer); to one without it, the customer's name, phone,
        address, e-mail and bank account are masked in every free-text field and nothing is
        recorded (issue #19 item 1).
        """
        if self.may_read_personal(by):
            self.record_access(uow, [case.customer_id for case in cases], by, purpose)
            return cases
        redactors: dict[str, PersonalDataRedactor] = {}
        shown = []
        for case in cases:
            redact = redactors.get(case.customer_id)
            if redact is None:
                customer = uow.repo(CUSTOMERS).get_or_none(case.customer_id)
                redact = (
                    PersonalDataRedactor(None, MASKED)
                    if customer is None
                    else PersonalDataRedactor.for_customer(customer, replacement=MASKED)
                )
                redactors[case.customer_id] = redact
            shown.append(scrub(case, redact, replacement=MASKED))
        return shown

    def _refuse_future(self, record: RepairRecord | ExchangeRecord | RefundRecord) -> None:
        """A remedy is recorded once it happened: its record is not dated after now."""
        if record.at > self.now():
            raise ValidationError.at("record.at", "is in the future")

    # -- queries -----------------------------------------------------------------------

    @use_case(Permission.HANDLE_WARRANTY)
    def get_warranty_claim(self, uow: UnitOfWork, case_id: Id, *, by: Actor) -> WarrantyClaimCase:
        """The stored claim; :class:`NotFound` if there is none.

        Reading it is on record (:meth:`_shown_claim`), or redacted without ``customer.read``.
        """
        return self._shown_claim(uow, uow.repo(WARRANTY_CLAIMS).get(case_id), by, "warranty claim")

    @use_case(Permission.HANDLE_WARRANTY)
    def find_warranty_claims(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        status: WarrantyClaimStatus | str | None = None,
        customer_id: Id | None = None,
        product_serial: Id | None = None,
        limit: Count | None = None,
    ) -> list[WarrantyClaimCase]:
        """Claims by status, customer and/or product serial, by claim number.

        One access record per customer shown, or redacted without ``customer.read``.
        """
        given: dict[str, Any] = {
            "status": status,
            "customer_id": customer_id,
            "product_serial": product_serial,
        }
        where = {name: value for name, value in given.items() if value is not None}
        found = uow.repo(WARRANTY_CLAIMS).find(limit=limit, **where)
        return self._shown_claims(uow, found, by, "warranty claim search")

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def warranty_decisions_by_reason(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, int]:
        """How many claims' current decisions give each reason code, for the monthly analyses.

        Counts every claim with a decision made in ``start <= at < end`` (either bound may
        be left open), once per reason code; streams over the stored claims.
        """
        if start is not None and end is not None and end < start:
            raise ValidationError.at("end", "is before start")
        where: dict[str, Any] = {"decided_at__ne": None}
        if start is not None:
            where["decided_at__ge"] = start
        if end is not None:
            where["decided_at__lt"] = end
        counts: dict[str, int] = {}
        for case in uow.repo(WARRANTY_CLAIMS).scan(**where):
            if case.decision is None:
                continue
            for code in dict.fromkeys(case.decision.reason_codes):
                counts[code] = counts.get(code, 0) + 1
        return dict(sorted(counts.items()))

    # -- fraud control and spare parts -------------------------------------------------

    @checked(Permission.VIEW_REPORTS)
    def claim_rate_outliers(
        self,
        records: Iterable[ServicePointPeriod],
        quality: Iterable[QualityTrend],
        *,
        by: Actor,
        period: Id | None = None,
    ) -> tuple[OutlierFlag, ...]:
        """Service points whose claim rate is suspiciously high (docs/domain.md 4, fraud)."""
        return claim_rate_outliers(records, quality, self.policy.warranty, period=period)

    @use_case(Permission.VIEW_REPORTS, readonly=True)
    def service_point_claim_outliers(
        self,
        uow: UnitOfWork,
        start: datetime,
        end: datetime,
        *,
        by: Actor,
        period: Id | None = None,
        quality: Iterable[QualityTrend] = (),
    ) -> tuple[OutlierFlag, ...]:
        """Service points whose stored claims are suspiciously many (docs/domain.md 4, fraud).

        The claim-rate outlier check (:func:`~csdomain.warranty.claim_rate_outliers`) on
        the store: per service point and month (``YYYY-MM`` in the desk calendar's time
        zone) of ``start <= at < end``, the units are the service orders the point fixed
        and the claims the warranty claims that name it (``service_point_id``) received
        then; the region is the service point's. The assessed month is ``period`` (default:
        the latest), compared with the point's regional peers, its own earlier months and
        production's defect rate from ``quality``. Streams over the stored jobs and claims.
        """
        _period(start, end)
        return claim_rate_outliers(
            self._service_point_periods(uow, start, end),
            quality,
            self.policy.warranty,
            period=period,
        )

    def _service_point_periods(
        self, uow: UnitOfWork, start: datetime, end: datetime
    ) -> list[ServicePointPeriod]:
        """Units (jobs fixed) and claims per service point and month of ``[start, end)``."""
        zone = ZoneInfo(self.calendar.tz)
        units: dict[tuple[str, str], int] = {}
        claims: dict[tuple[str, str], int] = {}
        for job in uow.repo(SERVICE_ORDERS).scan(fixed_at__ge=start, fixed_at__lt=end):
            point = job.service_point_id
            if point is not None and job.fixed_at is not None:
                slot = (point, f"{job.fixed_at.astimezone(zone):%Y-%m}")
                units[slot] = units.get(slot, 0) + 1
        for case in uow.repo(WARRANTY_CLAIMS).scan(
            submitted_at__ge=start, submitted_at__lt=end, service_point_id__ne=None
        ):
            if case.service_point_id is not None:
                slot = (case.service_point_id, f"{case.submitted_at.astimezone(zone):%Y-%m}")
                claims[slot] = claims.get(slot, 0) + 1
        regions: dict[str, str] = {}
        periods = []
        for point, month in sorted(units.keys() | claims.keys()):
            if point not in regions:
                regions[point] = uow.repo(SERVICE_POINTS).get(point).region
            periods.append(
                ServicePointPeriod(
                    service_point=point,
                    region=regions[point],
                    period=month,
                    units=units.get((point, month), 0),
                    claims=claims.get((point, month), 0),
                )
            )
        return periods

    @checked(Permission.HANDLE_WARRANTY)
    def quote_part(
        self, part: SparePart, quantity: Positive, *, by: Actor, bom: ServiceBom | None = None
    ) -> PartQuote:
        """A spare-part quote under the policy: list price, tax and freight (docs/domain.md 4).

        An assembled part is quoted as its share of twice its product's dealer price over
        the product's service ``bom``.
        """
        return quote_part(part, quantity, self.policy.warranty, bom=bom)
