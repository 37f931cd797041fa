"""Hypothesis strategies for the warranty models (:mod:`csdomain.warranty`).

Every strategy builds valid objects by construction: claims respect the date order and
the repair-day limit, claim cases are driven through their own methods so they follow
:data:`~csdomain.warranty.WARRANTY_CLAIM_TRANSITIONS`. Knobs are strategies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import assume
from hypothesis import strategies as st

from csdomain.auth import AccessPolicy, Actor
from csdomain.money import Money
from csdomain.warranty import (
    BomLine,
    Cause,
    ExchangeRecord,
    PartKind,
    ProductRecord,
    Proof,
    QualityTrend,
    Reason,
    RefundRecord,
    Remedy,
    RepairRecord,
    ReplacedPart,
    RuleGuard,
    ServiceBom,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
    WarrantyClaimCase,
    WarrantyClaimStatus,
    WarrantyDecision,
    WarrantyPolicy,
    WarrantyTerms,
    evaluate_claim,
)


__all__ = [
    "claim_rate_records",
    "covered_warranty_claims",
    "product_records_for",
    "quality_trends",
    "reasons",
    "repair_records",
    "replaced_parts",
    "rule_guards",
    "service_boms",
    "service_point_periods",
    "spare_parts",
    "warranty_claim_cases",
    "warranty_claims",
    "warranty_decisions",
    "warranty_policies",
]

_SERIAL = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=12)
_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda s: s.strip("_") != ""
)
_CODE = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
_SENTENCE = st.text(min_size=1, max_size=60).filter(lambda s: s.strip() != "")
_CATEGORIES = st.sampled_from(["tv", "washer", "phone", "vehicle", "reagent"])
_DATES = st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31))
_AT = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_STEP = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
_SMALL_DAYS = st.integers(0, 30)
_WARRANTY_EXTRA_DAYS = st.integers(1, 1000)
_REPAIR_LIMITS = st.integers(1, 5)
_BOOLS = st.booleans()
_CAUSES = st.sampled_from(Cause)
_PROOFS = st.sampled_from(Proof)
_ELAPSED_DAYS = st.integers(0, 800)
_FAILED_REPAIRS = st.integers(0, 4)
_DAYS_IN_YEAR = st.integers(0, 365)
_STATUSES = st.sampled_from(WarrantyClaimStatus)
_SERVICE_POINTS = st.sampled_from(["SP1", "SP2", "SP3", "SP4"])
_REGIONS = st.sampled_from(["north", "south"])
_PERIODS = st.sampled_from(["2024-01", "2024-02", "2024-03"])
_UNITS = st.integers(0, 500)
_DEFECT_RATES = st.decimals(0, "0.2", places=4)
_PART_KINDS = st.sampled_from(PartKind)
_PRICES = st.decimals("0.01", 100_000, places=2)
_CNY = st.just("CNY")
_NO = st.just(False)  # noqa: FBT003 - a strategy of the value False
_ATTRIBUTES: st.SearchStrategy[dict[str, str | int]] = st.dictionaries(
    _NAME, st.integers(0, 10**6) | _SERIAL, max_size=3
)


def warranty_policies(
    *,
    return_days: st.SearchStrategy[int] = _SMALL_DAYS,
    extra_exchange_days: st.SearchStrategy[int] = _SMALL_DAYS,
    extra_warranty_days: st.SearchStrategy[int] = _WARRANTY_EXTRA_DAYS,
    max_failed_repairs: st.SearchStrategy[int] = _REPAIR_LIMITS,
    versions: st.SearchStrategy[str] = _CODE,
    with_overrides: st.SearchStrategy[bool] = _BOOLS,
) -> st.SearchStrategy[WarrantyPolicy]:
    """Valid warranty policies: windows nest (return <= exchange <= warranty)."""

    @st.composite
    def build(draw: st.DrawFn) -> WarrantyPolicy:
        r = draw(return_days)
        e = r + draw(extra_exchange_days)
        w = e + draw(extra_warranty_days)
        overrides: dict[str, WarrantyTerms] = {}
        if draw(with_overrides):
            category = draw(_CATEGORIES)
            longer = draw(st.integers(0, 730))
            overrides[category] = WarrantyTerms(warranty_days=w + longer)
        return WarrantyPolicy(
            return_days=r,
            exchange_days=e,
            warranty_days=w,
            max_failed_repairs=draw(max_failed_repairs),
            category_overrides=overrides,
            version=draw(versions),
            tax_rate=draw(st.decimals(0, 1, places=2)),
            assembled_part_multiple=draw(st.decimals(1, 5, places=1)),
            outlier_ratio=draw(st.decimals(1, 5, places=1)),
        )

    return build()


def warranty_claims(
    *,
    causes: st.SearchStrategy[Cause] = _CAUSES,
    proofs: st.SearchStrategy[Proof] = _PROOFS,
    days_since_start: st.SearchStrategy[int] = _ELAPSED_DAYS,
    certificate_altered: st.SearchStrategy[bool] = _BOOLS,
    serial_mismatch: st.SearchStrategy[bool] = _BOOLS,
    unauthorised_repair: st.SearchStrategy[bool] = _BOOLS,
    exchanged: st.SearchStrategy[bool] = _BOOLS,
    purchase_date_known: st.SearchStrategy[bool] = _BOOLS,
    failed_repairs: st.SearchStrategy[int] = _FAILED_REPAIRS,
    categories: st.SearchStrategy[str] = _CATEGORIES,
    attributes: st.SearchStrategy[dict[str, str | int]] = _ATTRIBUTES,
) -> st.SearchStrategy[WarrantyClaim]:
    """Valid warranty claims; every knob is a strategy.

    An invoice or certificate always comes with a purchase date; with other or no proof
    ``purchase_date_known`` decides. ``days_since_start`` is the calendar distance from
    the start of the count (purchase or exchange) to the fault; part of it may be repair.
    """

    @st.composite
    def build(draw: st.DrawFn) -> WarrantyClaim:
        proof = draw(proofs)
        serial = draw(_SERIAL)
        known = proof in (Proof.INVOICE, Proof.CERTIFICATE) or draw(purchase_date_known)
        purchase = draw(_DATES)
        exchanged_on = (
            purchase + timedelta(days=draw(st.integers(0, 400))) if draw(exchanged) else None
        )
        start = exchanged_on or purchase
        elapsed = draw(days_since_start)
        fault = start + timedelta(days=elapsed)
        certificate: str | None = None
        if draw(serial_mismatch):
            certificate = serial + "X"
        elif draw(st.booleans()):
            certificate = serial
        return WarrantyClaim(
            product_serial=serial,
            category=draw(categories),
            purchase_date=purchase if known else None,
            proof=proof,
            fault_date=fault,
            cause=draw(causes),
            certificate_serial=certificate,
            certificate_altered=draw(certificate_altered),
            unauthorised_repair=draw(unauthorised_repair),
            failed_repairs=draw(failed_repairs),
            days_in_repair=draw(st.integers(0, elapsed)),
            exchanged_on=exchanged_on,
            attributes=draw(attributes),
            fault=draw(_FAULT_NAMES),
        )

    return build()


#: The faults a generated claim names: none (the fault date tells them apart) or a code.
_FAULT_NAMES = st.sampled_from(["", "E21 no power", "E07 no picture", "pump leaks"])


def covered_warranty_claims(
    *,
    days_since_start: st.SearchStrategy[int] = _DAYS_IN_YEAR,
    failed_repairs: st.SearchStrategy[int] = _FAILED_REPAIRS,
) -> st.SearchStrategy[WarrantyClaim]:
    """Claims that the default policy covers: a dated performance fault, no exclusion."""
    return warranty_claims(
        causes=st.just(Cause.PERFORMANCE_FAULT),
        proofs=st.sampled_from([Proof.INVOICE, Proof.CERTIFICATE]),
        days_since_start=days_since_start,
        certificate_altered=_NO,
        serial_mismatch=_NO,
        unauthorised_repair=_NO,
        failed_repairs=failed_repairs,
    )


def reasons(
    *, codes: st.SearchStrategy[str] = _CODE, messages: st.SearchStrategy[str] = _SENTENCE
) -> st.SearchStrategy[Reason]:
    """Valid reasons of every effect."""
    remedy_sets = st.frozensets(st.sampled_from(Remedy))
    return st.one_of(
        st.builds(Reason.excludes, codes, messages),
        st.builds(Reason.note, codes, messages),
        st.builds(
            lambda c, m, r: Reason.grants(c, m, *r),
            codes,
            messages,
            st.frozensets(st.sampled_from(Remedy), min_size=1),
        ),
        st.builds(lambda c, m, r: Reason.limits(c, m, *r), codes, messages, remedy_sets),
    )


def warranty_decisions(
    *,
    claims: st.SearchStrategy[WarrantyClaim] | None = None,
    policies: st.SearchStrategy[WarrantyPolicy] | None = None,
) -> st.SearchStrategy[WarrantyDecision]:
    """Decisions as :func:`~csdomain.warranty.evaluate_claim` makes them."""
    return st.builds(
        evaluate_claim,
        warranty_claims() if claims is None else claims,
        st.just(WarrantyPolicy()) if policies is None else policies,
    )


def product_records_for(claim: WarrantyClaim) -> st.SearchStrategy[ProductRecord]:
    """Product records that match ``claim`` (same serial and category)."""
    sold = claim.purchase_date or claim.fault_date
    return st.builds(
        ProductRecord,
        serial=st.just(claim.product_serial),
        model=_SERIAL,
        category=st.just(claim.category),
        sold_on=st.just(sold),
        order_id=st.none() | _SERIAL.map(lambda s: f"SO-{s}"),
    )


def replaced_parts() -> st.SearchStrategy[ReplacedPart]:
    """Parts swapped in a repair, with distinct serials."""
    return st.builds(
        ReplacedPart,
        part_number=_SERIAL.map(lambda s: f"P-{s}"),
        removed_serial=_SERIAL.map(lambda s: f"OLD-{s}"),
        installed_serial=_SERIAL.map(lambda s: f"NEW-{s}"),
    )


def repair_records(
    *,
    at: st.SearchStrategy[datetime] = _AT,
    fault_cleared: st.SearchStrategy[bool] = _BOOLS,
) -> st.SearchStrategy[RepairRecord]:
    """Complete repair records."""
    return st.builds(
        RepairRecord,
        technician=_NAME,
        at=at,
        work_done=_SENTENCE,
        parts=st.lists(replaced_parts(), max_size=3).map(tuple),
        fault_cleared=fault_cleared,
    )


_S = WarrantyClaimStatus
_VP = Actor("vp", frozenset({"sales_vp"}))
_AGENT = Actor("agent", frozenset({"specialist"}))


def warranty_claim_cases(
    *,
    status: st.SearchStrategy[WarrantyClaimStatus] = _STATUSES,
    claims: st.SearchStrategy[WarrantyClaim] | None = None,
    policies: st.SearchStrategy[WarrantyPolicy] | None = None,
) -> st.SearchStrategy[WarrantyClaimCase]:
    """Claim cases in the drawn status, reached through the aggregate's own methods.

    A case that must be approved but whose decision is not covered is overridden instead;
    a remedy the decision does not allow is granted by a sales VP's override.
    """

    @st.composite
    def build(draw: st.DrawFn) -> WarrantyClaimCase:
        target = draw(status)
        if claims is not None:
            claim = draw(claims)
        elif target is _S.APPROVED:
            claim = draw(covered_warranty_claims())
        else:
            claim = draw(warranty_claims())
        policy = draw(st.just(WarrantyPolicy()) if policies is None else policies)
        at = draw(_AT)

        def later() -> datetime:
            nonlocal at
            at = at + draw(_STEP)
            return at

        case = WarrantyClaimCase.submit(
            id=draw(_SERIAL.map(lambda s: f"WC-{s}")),
            claim=claim,
            product=draw(product_records_for(claim)),
            customer_id=draw(_SERIAL.map(lambda s: f"C-{s}")),
            complaint_id=draw(st.none() | _SERIAL.map(lambda s: f"CP-{s}")),
            at=at,
            by=_AGENT,
        )
        S = _S  # noqa: N806 - short local alias keeps the status ladder readable
        if target is S.SUBMITTED:
            return case
        if target is S.CLOSED and draw(st.booleans()):
            return case.close(at=later(), by=_AGENT, note="withdrawn by the customer")
        case = case.evaluate(policy, at=later(), by=_AGENT)
        if target is S.EVALUATED:
            return case
        if target is S.CLOSED and draw(st.booleans()):
            return case.close(at=later(), by=_AGENT)
        wanted = {
            S.REPAIRED: Remedy.REPAIR,
            S.EXCHANGED: Remedy.EXCHANGE,
            S.REFUNDED: Remedy.REFUND,
        }.get(target)
        if target is S.CLOSED:
            wanted = draw(st.sampled_from(Remedy))
        covered = case.decision is not None and case.decision.covered
        assume(covered or target is not S.APPROVED)
        must_override = target is S.OVERRIDDEN or not covered
        if wanted is not None and wanted not in case.allowed_remedies:
            must_override = True
        if must_override:
            grant = (
                {wanted}
                if wanted is not None
                else draw(st.frozensets(st.sampled_from(Remedy), min_size=1))
            )
            case = case.override(
                grant,
                reason="goodwill approved by the sales VP",
                at=later(),
                by=_VP,
                access=AccessPolicy(),
            )
        else:
            case = case.approve(at=later(), by=_AGENT)
        if target in (S.APPROVED, S.OVERRIDDEN):
            return case
        if wanted is Remedy.REPAIR:
            case = case.record_repair(draw(repair_records(at=st.just(later()))), by=_AGENT)
        elif wanted is Remedy.EXCHANGE:
            new_serial = claim.product_serial + "-R"
            case = case.record_exchange(
                ExchangeRecord(new_serial=new_serial, at=later()), by=_AGENT
            )
        elif wanted is Remedy.REFUND:
            amount = draw(st.decimals(1, 10_000, places=2))
            case = case.record_refund(
                RefundRecord(amount=Money(amount, "CNY"), at=later()), by=_AGENT
            )
        if target is S.CLOSED:
            case = case.close(at=later(), by=_AGENT)
        return case

    return build()


def service_point_periods(
    *,
    service_points: st.SearchStrategy[str] = _SERVICE_POINTS,
    regions: st.SearchStrategy[str] = _REGIONS,
    periods: st.SearchStrategy[str] = _PERIODS,
    units: st.SearchStrategy[int] = _UNITS,
) -> st.SearchStrategy[ServicePointPeriod]:
    """Per-period claim counts of service points (claims never exceed units)."""

    @st.composite
    def build(draw: st.DrawFn) -> ServicePointPeriod:
        n = draw(units)
        return ServicePointPeriod(
            service_point=draw(service_points),
            region=draw(regions),
            period=draw(periods),
            units=n,
            claims=draw(st.integers(0, n)),
        )

    return build()


def claim_rate_records(
    *,
    service_points: st.SearchStrategy[str] = _SERVICE_POINTS,
    regions: st.SearchStrategy[str] = _REGIONS,
    periods: st.SearchStrategy[str] = _PERIODS,
    units: st.SearchStrategy[int] = _UNITS,
    max_size: int = 20,
) -> st.SearchStrategy[list[ServicePointPeriod]]:
    """A stream of records for :func:`~csdomain.warranty.claim_rate_outliers`.

    Each service point stays in one region, as the function requires within a period.
    """

    @st.composite
    def build(draw: st.DrawFn) -> list[ServicePointPeriod]:
        region_of: dict[str, str] = {}
        records = draw(
            st.lists(
                service_point_periods(service_points=service_points, periods=periods, units=units),
                max_size=max_size,
            )
        )
        for record in records:
            region_of.setdefault(record.service_point, draw(regions))
        return [
            ServicePointPeriod(
                service_point=r.service_point,
                region=region_of[r.service_point],
                period=r.period,
                units=r.units,
                claims=r.claims,
            )
            for r in records
        ]

    return build()


def quality_trends(
    *,
    periods: st.SearchStrategy[str] = _PERIODS,
    defect_rates: st.SearchStrategy[Decimal] = _DEFECT_RATES,
) -> st.SearchStrategy[QualityTrend]:
    """Production defect rates per period."""
    return st.builds(QualityTrend, period=periods, defect_rate=defect_rates)


def spare_parts(
    *,
    kinds: st.SearchStrategy[PartKind] = _PART_KINDS,
    prices: st.SearchStrategy[Decimal] = _PRICES,
    currency: st.SearchStrategy[str] = _CNY,
) -> st.SearchStrategy[SparePart]:
    """Spare parts with the price their kind is quoted from."""

    @st.composite
    def build(draw: st.DrawFn) -> SparePart:
        kind = draw(kinds)
        price = Money(draw(prices), draw(currency))
        return SparePart(
            part_number=draw(_SERIAL.map(lambda s: f"P-{s}")),
            name=draw(_NAME),
            kind=kind,
            dealer_price=price if kind is PartKind.ASSEMBLED else None,
            cost=price if kind in (PartKind.STANDARD, PartKind.WEAR) else None,
        )

    return build()


_GUARD_RULES = st.sampled_from(["open_warranty_claim", "survey_answer"])
_GUARD_PARTS = st.tuples(_SERIAL, _SERIAL)


def rule_guards(
    *,
    rules: st.SearchStrategy[str] = _GUARD_RULES,
    parts: st.SearchStrategy[tuple[str, ...]] = _GUARD_PARTS,
) -> st.SearchStrategy[RuleGuard]:
    """Guards of "at most one" slots, each keyed by its rule and parts."""

    @st.composite
    def build(draw: st.DrawFn) -> RuleGuard:
        return RuleGuard.of(draw(rules), draw(parts), holder=draw(_SERIAL), at=draw(_AT))

    return build()


def service_boms(*, currency: st.SearchStrategy[str] = _CNY) -> st.SearchStrategy[ServiceBom]:
    """Service BOMs of a product model: assembled parts carrying the product's dealer
    price, and sometimes standard or wear parts with their cost."""

    @st.composite
    def build(draw: st.DrawFn) -> ServiceBom:
        cur = draw(currency)
        dealer = Money(draw(_PRICES), cur)
        count = draw(st.integers(1, 4))
        numbers = draw(st.lists(_SERIAL, min_size=count, max_size=count, unique=True))
        lines = []
        for n, number in enumerate(numbers):
            kind = PartKind.ASSEMBLED if n == 0 else draw(st.sampled_from(PartKind))
            part = SparePart(
                part_number=f"P-{number}",
                name=draw(_NAME),
                kind=kind,
                dealer_price=dealer if kind is PartKind.ASSEMBLED else None,
                cost=Money(draw(_PRICES), cur)
                if kind in (PartKind.STANDARD, PartKind.WEAR)
                else None,
            )
            lines.append(BomLine(part=part, quantity=draw(st.integers(1, 3))))
        return ServiceBom(
            product=draw(st.sampled_from(["TV-55", "WM-8", "AN-2"])),
            dealer_price=dealer,
            lines=tuple(lines),
        )

    return build()
