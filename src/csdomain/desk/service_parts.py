"""The field-service desk's spare parts at the service points (配件管理), and its helpers.

Part stock per service point (receipts checked against their note, issues to a job,
transfers between points, write-offs of claim material), quotes through the channel, the
monthly parts reconciliation, the reserve plan and the parts-age KPI (docs/domain.md 8).
:class:`ServicePartsDesk` is the base of :class:`~csdomain.desk.fieldservice.FieldServiceDesk`
(the visit's parts are issued from stock in the visit's unit of work), so every use case here
is on :class:`~csdomain.service.ServiceDesk` too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from csdomain.auth import Actor, Permission
from csdomain.calendar import BusinessCalendar
from csdomain.desk.args import Count, Id, LongText, Positive
from csdomain.desk.base import DeskBase, use_case
from csdomain.errors import RuleViolation, ValidationError, describe
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    MovementKind,
    PartLot,
    PartMovement,
    PartReconciliation,
    PartStock,
    PartTransfer,
    PartUse,
    ReservePlan,
    ServiceOrder,
    StockAge,
    TransferLine,
    VisitRecord,
    part_stock_key,
    reconcile_parts,
    reserve_plan,
    stock_age,
)
from csdomain.ids import NamingSeries
from csdomain.kinds import (
    CUSTOMERS,
    PART_MOVEMENTS,
    PART_STOCKS,
    PART_TRANSFERS,
    PRODUCT_FILES,
    SERVICE_ORDERS,
    SERVICE_POINTS,
    WARRANTY_CLAIMS,
)
from csdomain.store import UnitOfWork
from csdomain.warranty.parts import PartKind, PartQuote, SparePart, quote_part


__all__ = ["ServicePartsDesk"]


_NETWORK = Permission.MANAGE_SERVICE_NETWORK
_DISPATCH = Permission.DISPATCH_SERVICE
_TECHNICIAN = Permission.VISIT_SERVICE
_SETTLE = Permission.SETTLE_SERVICE
_REPORTS = Permission.VIEW_REPORTS
#: Who may read the service network and the product files: every field-service permission.
_SERVICE_STAFF = (_DISPATCH, _TECHNICIAN, _SETTLE, _NETWORK)
#: The escalation job: the dispatch centre, or the complaint area's scheduler (the ladder a
#: late job climbs is the complaint ladder, run by the holder of ``complaint.handle``).
_ESCALATE = (_DISPATCH, Permission.HANDLE_COMPLAINT)


class ServicePartsDesk(DeskBase):
    """Spare parts at the service points, and the calendar helpers field service shares."""

    def _promise_calendar(self) -> BusinessCalendar:
        return self.calendar_for(FIELD_SERVICE_TEAM)

    def _today(self, now: datetime) -> date:
        return now.astimezone(self._promise_calendar().zone).date()

    # -- spare parts at the service points (配件管理) -------------------------------------------

    def _parts_stock_of(self, uow: UnitOfWork, point_id: str, part: SparePart) -> PartStock | None:
        return uow.repo(PART_STOCKS).get_or_none(part_stock_key(point_id, part.part_number))

    def _parts_save(self, uow: UnitOfWork, before: PartStock | None, after: PartStock) -> None:
        repo = uow.repo(PART_STOCKS)
        if before is None:
            repo.add(after)
        elif after != before:
            repo.update(after)

    def _parts_move(
        self,
        uow: UnitOfWork,
        stock: PartStock,
        kind: MovementKind,
        quantity: int,
        *,
        reference: str,
        by: Actor,
        **extra: Any,
    ) -> PartMovement:
        seq = uow.next_counter(f"part-movement:{stock.service_point_id}")
        movement = PartMovement(
            id=f"PM-{stock.service_point_id}-{seq:08d}",
            service_point_id=stock.service_point_id,
            part_number=stock.part_number,
            kind=kind,
            quantity=quantity,
            reference=reference,
            at=self.now(),
            by=by.id,
            **extra,
        )
        uow.repo(PART_MOVEMENTS).add(movement)
        return movement

    def _parts_take(
        self,
        uow: UnitOfWork,
        point_id: str,
        part: SparePart,
        quantity: int,
        kind: MovementKind,
        *,
        purpose: str,
        reference: str,
        by: Actor,
        **extra: Any,
    ) -> tuple[PartStock, tuple[PartLot, ...]]:
        """Take ``quantity`` of ``part`` from a point's stock (never below zero:
        ``part_out_of_stock``), with its movement."""
        before = self._parts_stock_of(uow, point_id, part)
        stock = before if before is not None else PartStock.empty(point_id, part)
        after, lots = stock.taken(quantity, purpose=purpose)
        self._parts_save(uow, before, after)
        self._parts_move(uow, after, kind, quantity, reference=reference, by=by, **extra)
        return after, lots

    def _parts_book(
        self,
        uow: UnitOfWork,
        point_id: str,
        part: SparePart,
        lots: tuple[PartLot, ...],
        kind: MovementKind,
        *,
        reference: str,
        by: Actor,
    ) -> PartStock:
        before = self._parts_stock_of(uow, point_id, part)
        stock = before if before is not None else PartStock.empty(point_id, part)
        after = stock.received(lots)
        self._parts_save(uow, before, after)
        self._parts_move(
            uow, after, kind, sum(lot.quantity for lot in lots), reference=reference, by=by
        )
        return after

    def _issue_visit_parts(
        self, uow: UnitOfWork, order: ServiceOrder, visit: VisitRecord, by: Actor
    ) -> None:
        """Issue a visit's parts used from the stock of the technician's service point."""
        point_id = order.service_point_id
        if point_id is None or not visit.parts:
            return
        wanted: dict[str, tuple[SparePart, int]] = {}
        for use in visit.parts:
            part, quantity = wanted.get(use.part_number, (use.part, 0))
            wanted[use.part_number] = (part, quantity + use.quantity)
        for part, quantity in wanted.values():
            self._parts_take(
                uow,
                point_id,
                part,
                quantity,
                MovementKind.ISSUED,
                purpose=f"use on job {order.id}",
                reference=order.id,
                by=by,
            )

    @use_case(_DISPATCH, _NETWORK)
    def receive_parts(
        self,
        uow: UnitOfWork,
        point_id: Id,
        note_id: Id,
        lines: Sequence[TransferLine],
        *,
        by: Actor,
        received: Mapping[Id, Count] | None = None,
        note: LongText = "",
    ) -> PartTransfer:
        """Receive parts delivered to a service point against their delivery note.

        The receipt check (:func:`~csdomain.fieldservice.check_receipt`): a part not on the
        note is ``receipt_not_on_note``, more than noted ``receipt_exceeds_note``; a short
        delivery is booked as it came, the shortfall kept on the receipt. A note is
        received once (``note_already_received``). What arrived is a lot of today (the
        start of its age).
        """
        now = self.now()
        point = uow.repo(SERVICE_POINTS).get(point_id)
        if any(line.lots for line in lines):
            raise ValidationError.at("lines", "a delivery note carries no lots")
        repo = uow.repo(PART_TRANSFERS)
        if repo.exists(note_id):
            raise RuleViolation(
                "note_already_received",
                f"note {describe(note_id)} has been received already",
                note_id=note_id,
            )
        shipped = PartTransfer.shipped(
            id=note_id,
            source_point_id=None,
            destination_point_id=point.id,
            lines=lines,
            at=now,
            by=by.id,
            note=note,
        )
        done = shipped.received(received, at=now, by=by.id, note=note)
        parts = {line.part_number: line.part for line in done.lines}
        for number, lots in done.arrived_lots(self._today(now)).items():
            self._parts_book(
                uow, point.id, parts[number], lots, MovementKind.RECEIVED, reference=done.id, by=by
            )
        repo.add(done)
        return done

    @use_case(_DISPATCH, _NETWORK)
    def ship_part_transfer(
        self,
        uow: UnitOfWork,
        source_point_id: Id,
        destination_point_id: Id,
        parts: Mapping[Id, Positive],
        *,
        by: Actor,
        note: LongText = "",
    ) -> PartTransfer:
        """Ship parts from one service point to another (调拨): they leave the source's
        stock now, oldest first (never below zero: ``part_out_of_stock``), and keep their
        age. IP-protected core parts are never transferred (``part_not_transferable``).
        """
        now = self.now()
        points = uow.repo(SERVICE_POINTS)
        source = points.get(source_point_id)
        destination = points.get(destination_point_id)
        if source.id == destination.id:
            raise ValidationError.at("destination_point_id", "is the source point")
        if not parts:
            raise ValidationError.at("parts", "name at least one part")
        transfer_id = NamingSeries(self.policy.fieldservice.part_transfer_pattern).next(uow, now)
        lines: list[TransferLine] = []
        for number, quantity in parts.items():
            stock = uow.repo(PART_STOCKS).get_or_none(part_stock_key(source.id, number))
            if stock is not None and stock.part.kind is PartKind.CORE:
                raise RuleViolation(
                    "part_not_transferable",
                    f"{number} ({stock.part.name}) is an IP-protected core part and is not "
                    "transferred",
                    part_number=number,
                )
            if stock is None:
                raise RuleViolation(
                    "part_out_of_stock",
                    f"service point {describe(source.id)} has no {describe(number)}",
                    service_point_id=source.id,
                    part_number=number,
                    on_hand=0,
                    wanted=quantity,
                )
            _, lots = self._parts_take(
                uow,
                source.id,
                stock.part,
                quantity,
                MovementKind.TRANSFERRED_OUT,
                purpose=f"ship to {destination.id}",
                reference=transfer_id,
                by=by,
            )
            lines.append(TransferLine(part=stock.part, quantity=quantity, lots=lots))
        transfer = PartTransfer.shipped(
            id=transfer_id,
            source_point_id=source.id,
            destination_point_id=destination.id,
            lines=lines,
            at=now,
            by=by.id,
            note=note,
        )
        uow.repo(PART_TRANSFERS).add(transfer)
        return transfer

    @use_case(_DISPATCH, _NETWORK)
    def receive_part_transfer(
        self,
        uow: UnitOfWork,
        transfer_id: Id,
        *,
        by: Actor,
        received: Mapping[Id, Count] | None = None,
        note: LongText = "",
    ) -> PartTransfer:
        """Receive a transfer at its destination, checked against its note
        (``receipt_not_on_note``, ``receipt_exceeds_note``; a shortfall stays on the
        receipt and in the month's reconciliation); received once."""
        now = self.now()
        repo = uow.repo(PART_TRANSFERS)
        transfer = repo.get(transfer_id)
        done = transfer.received(received, at=now, by=by.id, note=note)
        parts = {line.part_number: line.part for line in done.lines}
        for number, lots in done.arrived_lots(self._today(now)).items():
            self._parts_book(
                uow,
                done.destination_point_id,
                parts[number],
                lots,
                MovementKind.TRANSFERRED_IN,
                reference=done.id,
                by=by,
            )
        repo.update(done)
        return done

    @use_case(_SETTLE, _NETWORK)
    def write_off_claim_material(
        self,
        uow: UnitOfWork,
        point_id: Id,
        part_number: Id,
        quantity: Positive,
        *,
        product_serial: Id,
        customer_id: Id,
        by: Actor,
        claim_id: Id | None = None,
        note: LongText = "",
    ) -> PartStock:
        """Write off claim material (核销) from a service point's stock.

        Source: docs/domain.md 4, claim material comes with valid product and customer
        data. The product must be on file (``claim_material_without_product``; a claim
        named must be about it), and its user data must be there: the product file's
        customer, on file with a phone or an address (``claim_material_without_user_data``).
        Never below zero (``part_out_of_stock``).
        """
        product = uow.repo(PRODUCT_FILES).get_or_none(product_serial)
        if product is None:
            raise RuleViolation(
                "claim_material_without_product",
                f"no product file {describe(product_serial)}: claim material needs a valid "
                "product record",
                product_serial=product_serial,
            )
        if claim_id is not None:
            claim = uow.repo(WARRANTY_CLAIMS).get(claim_id)
            if claim.claim.product_serial != product.serial:
                raise RuleViolation(
                    "claim_material_without_product",
                    f"claim {describe(claim_id)} is about another product",
                    product_serial=product_serial,
                    claim_id=claim_id,
                )
        customer = uow.repo(CUSTOMERS).get_or_none(customer_id)
        if (
            customer is None
            or customer.id != product.customer_id
            or not (customer.phone.strip() or customer.address.strip())
        ):
            raise RuleViolation(
                "claim_material_without_user_data",
                f"claim material of {describe(product.serial)} needs the data of its user: "
                "the product file's customer, on file with a phone or an address",
                product_serial=product.serial,
                customer_id=customer_id,
            )
        uow.repo(SERVICE_POINTS).get(point_id)
        stock = uow.repo(PART_STOCKS).get_or_none(part_stock_key(point_id, part_number))
        if stock is None:
            raise RuleViolation(
                "part_out_of_stock",
                f"service point {describe(point_id)} has no {describe(part_number)}",
                service_point_id=point_id,
                part_number=part_number,
                on_hand=0,
                wanted=quantity,
            )
        after, _ = self._parts_take(
            uow,
            point_id,
            stock.part,
            quantity,
            MovementKind.WRITTEN_OFF,
            purpose="write off",
            reference=claim_id or product.serial,
            by=by,
            product_serial=product.serial,
            customer_id=customer.id,
            note=note,
        )
        return after

    @use_case(*_SERVICE_STAFF, readonly=True)
    def get_part_stock(
        self, uow: UnitOfWork, point_id: Id, part_number: Id, *, by: Actor
    ) -> PartStock:
        """The stock of one part at one service point; :class:`NotFound` if there is none."""
        return uow.repo(PART_STOCKS).get(part_stock_key(point_id, part_number))

    @use_case(*_SERVICE_STAFF, readonly=True)
    def find_part_stock(
        self,
        uow: UnitOfWork,
        *,
        by: Actor,
        service_point_id: Id | None = None,
        part_number: Id | None = None,
        limit: Count | None = None,
    ) -> list[PartStock]:
        """Part stock by service point and/or part number, by key."""
        given: dict[str, Any] = {"service_point_id": service_point_id, "part_number": part_number}
        where = {name: value for name, value in given.items() if value is not None}
        return uow.repo(PART_STOCKS).find(order_by="key", limit=limit, **where)

    @use_case(*_SERVICE_STAFF, readonly=True)
    def get_part_transfer(self, uow: UnitOfWork, transfer_id: Id, *, by: Actor) -> PartTransfer:
        """A delivery or transfer note and its receipt; :class:`NotFound` if there is none."""
        return uow.repo(PART_TRANSFERS).get(transfer_id)

    @use_case(_DISPATCH, _NETWORK)
    def quote_parts_to_channel(
        self,
        uow: UnitOfWork,
        parts: Sequence[PartUse],
        *,
        by: Actor,
        dealer_id: Id | None = None,
        service_point_id: Id | None = None,
    ) -> list[PartQuote]:
        """Quote spare parts to the channel, on the dealer settlement list.

        Source: docs/domain.md 8, parts are not quoted straight to end users (不可对用户直接
        报价): the quote goes to a dealer or agent on file (a customer of class ``dealer``
        or ``agent``) or to a service point, at the market guide price less the channel
        level's ``part_settlement_discounts``; any other customer is an end user
        (``no_direct_quote_to_end_user``). IP-protected core parts are never priced
        (``part_not_for_sale``).
        """
        if (dealer_id is None) == (service_point_id is None):
            raise ValidationError.at("dealer_id", "name either a dealer or a service point")
        if not parts:
            raise ValidationError.at("parts", "name at least one part")
        level = "service_point"
        if dealer_id is not None:
            dealer = uow.repo(CUSTOMERS).get(dealer_id)
            level = dealer.customer_class.value
            if level not in self.policy.fieldservice.part_settlement_discounts:
                raise RuleViolation(
                    "no_direct_quote_to_end_user",
                    f"customer {describe(dealer.id)} is a {level} customer, not a dealer or "
                    "agent: parts are quoted through the channel only",
                    customer_id=dealer.id,
                )
        else:
            uow.repo(SERVICE_POINTS).get(service_point_id or "")
        discount = self.policy.fieldservice.settlement_discount(level)
        return [
            quote_part(
                use.part,
                use.quantity,
                self.policy.warranty,
                bom=use.bom,
                settlement_discount=discount,
            )
            for use in parts
        ]

    def _parts_month(self, month: date) -> tuple[datetime, datetime]:
        zone = self._promise_calendar().zone
        first = date(month.year, month.month, 1)
        following = first + relativedelta(months=1)
        return (
            datetime.combine(first, time(), zone).astimezone(UTC),
            datetime.combine(following, time(), zone).astimezone(UTC),
        )

    @use_case(_SETTLE, _NETWORK, readonly=True)
    def part_reconciliation(
        self,
        uow: UnitOfWork,
        point_id: Id,
        month: date,
        *,
        by: Actor,
        counted: Mapping[Id, Count] | None = None,
    ) -> PartReconciliation:
        """A service point's monthly parts reconciliation (月对账) for the month of ``month``.

        Per part number: opening, received, transferred in, issued, transferred out,
        written off, closing, and the difference to the point's month-end count
        (``counted``); per job that drew parts, whether it was settled (单单结) and what
        its settlement charged for parts; short receipts. Any difference is flagged.
        """
        point = uow.repo(SERVICE_POINTS).get(point_id)
        start, end = self._parts_month(month)
        movements = list(
            uow.repo(PART_MOVEMENTS).scan(service_point_id=point.id, at__lt=end, order_by="at")
        )
        job_ids = {
            m.reference for m in movements if m.kind is MovementKind.ISSUED and m.at >= start
        }
        orders = uow.repo(SERVICE_ORDERS)
        jobs = {job_id: orders.get_or_none(job_id) for job_id in sorted(job_ids)}
        transfers = uow.repo(PART_TRANSFERS).scan(
            destination_point_id=point.id, received_at__ge=start, received_at__lt=end
        )
        return reconcile_parts(
            point.id,
            movements,
            start=start,
            end=end,
            jobs=jobs,
            transfers=transfers,
            counted=counted,
            currency=self.policy.fieldservice.currency,
        )

    @use_case(_DISPATCH, _NETWORK, readonly=True)
    def part_reserve_plan(
        self, uow: UnitOfWork, point_id: Id, *, by: Actor, end: datetime | None = None
    ) -> ReservePlan:
        """A service point's part reserve plan from its service history: planned
        replacements 1:1 (``part_replacement_ratio``) of the parts issued to jobs over the
        ``part_reserve_days`` before ``end`` (default now), against what is on hand."""
        point = uow.repo(SERVICE_POINTS).get(point_id)
        policy = self.policy.fieldservice
        until = self.now() if end is None else end
        start = until - timedelta(days=policy.part_reserve_days)
        movements = uow.repo(PART_MOVEMENTS).scan(
            service_point_id=point.id, kind=MovementKind.ISSUED.value, at__gt=start, at__le=until
        )
        stocks = uow.repo(PART_STOCKS).scan(service_point_id=point.id)
        return reserve_plan(
            point.id,
            movements,
            stocks,
            start=start,
            end=until,
            ratio=policy.part_replacement_ratio,
        )

    @use_case(_REPORTS, readonly=True)
    def part_stock_age(
        self, uow: UnitOfWork, *, by: Actor, service_point_id: Id | None = None
    ) -> tuple[StockAge, tuple[StockAge, ...]]:
        """The share of part stock younger than ``young_part_stock_months`` (3) today,
        against ``young_part_stock_target`` (80 %): overall and per service point
        (配件账龄周期80%控制在3个月内)."""
        policy = self.policy.fieldservice
        where: dict[str, Any] = {}
        if service_point_id is not None:
            where["service_point_id"] = service_point_id
        return stock_age(
            uow.repo(PART_STOCKS).scan(**where),
            on=self._today(self.now()),
            months=policy.young_part_stock_months,
            target=policy.young_part_stock_target,
        )
