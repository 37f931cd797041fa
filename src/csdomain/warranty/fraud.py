"""Fraud control of the service points' warranty claims (质量赔偿风险控制, docs/domain.md 4).

:func:`claim_rate_outliers` compares each service point's claim rate with its regional
peers, its own history and the production-quality trend, streaming.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum

import attrs

from csdomain.errors import ValidationError, describe
from csdomain.validators import instance_of, optional_instance_of
from csdomain.warranty._checks import _count, _decimal_at_least, _Problems, _raise, _text
from csdomain.warranty.policy import WarrantyPolicy


__all__ = [
    "Comparison",
    "OutlierFlag",
    "QualityTrend",
    "ServicePointPeriod",
    "claim_rate_outliers",
]


class Comparison(StrEnum):
    """What a service point's claim rate was compared with (质量赔偿风险控制, docs/domain.md 4)."""

    REGIONAL_PEERS = "regional_peers"
    OWN_HISTORY = "own_history"
    PRODUCTION_QUALITY = "production_quality"


@attrs.frozen
class ServicePointPeriod:
    """A service point's warranty claims over the units it sold or serviced in one period.

    Periods are strings that sort in time order (``"2024-05"``, ``"2024Q2"``).
    """

    service_point: str
    region: str
    period: str
    units: int
    claims: int

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.service_point, "service_point", problems)
        _text(self.region, "region", problems)
        _text(self.period, "period", problems)
        _count(self.units, "units", problems)
        _count(self.claims, "claims", problems)
        _raise(problems)


@attrs.frozen
class QualityTrend:
    """Production's defect rate (defects per unit made) in one period."""

    period: str
    defect_rate: Decimal

    def __attrs_post_init__(self) -> None:
        problems: _Problems = []
        _text(self.period, "period", problems)
        _decimal_at_least(self.defect_rate, Decimal(0), "defect_rate", problems)
        _raise(problems)


@attrs.frozen
class OutlierFlag:
    """A service point whose claim rate is beyond the threshold against one reference.

    ``ratio`` is ``rate / reference``; it is ``None`` when the reference is zero and the
    service point still has claims (beyond any multiple). ``region`` and ``period`` say
    where and when.
    """

    service_point: str = attrs.field(validator=instance_of(str, "a service point"))
    comparison: Comparison = attrs.field(validator=instance_of(Comparison))
    rate: Decimal = attrs.field(validator=instance_of(Decimal))
    reference: Decimal = attrs.field(validator=instance_of(Decimal))
    ratio: Decimal | None = attrs.field(validator=optional_instance_of(Decimal))
    region: str = attrs.field(default="", validator=instance_of(str, "a region"))
    period: str = attrs.field(default="", validator=instance_of(str, "a period"))


@attrs.define
class _Tally:
    """Running totals of one service point: its latest (or target) period and the rest."""

    period: str | None = None
    region: str = ""
    units: int = 0
    claims: int = 0
    past_units: int = 0
    past_claims: int = 0
    regions_clash: bool = False

    def add(self, record: ServicePointPeriod, target: str | None) -> None:
        if target is not None and record.period > target:
            return
        if target is not None and record.period < target:
            self.past_units += record.units
            self.past_claims += record.claims
        elif self.period is None or record.period > self.period:
            self.past_units += self.units
            self.past_claims += self.claims
            self.period, self.region = record.period, record.region
            self.units, self.claims = record.units, record.claims
            self.regions_clash = False
        elif record.period == self.period:
            self.units += record.units
            self.claims += record.claims
            self.regions_clash = self.regions_clash or record.region != self.region
        else:
            self.past_units += record.units
            self.past_claims += record.claims


def _stream(value: object, path: str) -> None:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValidationError.at(path, f"expected a list or stream, got {type(value).__name__}")


def _rate(claims: int, units: int, min_units: int) -> Decimal | None:
    return Decimal(claims) / Decimal(units) if units >= min_units else None


def claim_rate_outliers(
    records: Iterable[ServicePointPeriod],
    quality: Iterable[QualityTrend],
    policy: WarrantyPolicy,
    *,
    period: str | None = None,
) -> tuple[OutlierFlag, ...]:
    """Flag service points whose warranty claim rate is suspiciously high (docs/domain.md 4).

    The assessed period is ``period`` (default: the latest period in ``records``). Each
    service point's claim rate there (claims per unit sold or serviced) is compared with
    (1) its regional peers, the other points of its region in the same period taken
    together; (2) its own history, all its earlier periods taken together; (3) production's
    defect rate for the period. A flag is raised for each comparison where the rate exceeds
    ``policy.outlier_ratio`` times the reference (or the reference is zero and the rate is
    not). Rates over fewer than ``policy.outlier_min_units`` units are not compared.

    One pass over each iterable; ``records`` first, then ``quality``. Memory grows with the
    number of service points, not with the number of records.
    """
    if period is not None and (not isinstance(period, str) or not period.strip()):
        raise ValidationError.at("period", "must be a non-empty string")
    if not isinstance(policy, WarrantyPolicy):
        msg = f"expected a WarrantyPolicy, got {type(policy).__name__}"
        raise ValidationError.at("policy", msg)
    _stream(records, "records")
    _stream(quality, "quality")
    tallies: dict[str, _Tally] = {}
    for i, record in enumerate(records):
        if not isinstance(record, ServicePointPeriod):
            raise ValidationError.at(f"records.{i}", "expected a ServicePointPeriod")
        tallies.setdefault(record.service_point, _Tally()).add(record, period)
    assessed = period
    if assessed is None:
        assessed = max((t.period for t in tallies.values() if t.period is not None), default=None)
    defect_rate: Decimal | None = None
    for i, trend in enumerate(quality):
        if not isinstance(trend, QualityTrend):
            raise ValidationError.at(f"quality.{i}", "expected a QualityTrend")
        if trend.period == assessed:
            defect_rate = trend.defect_rate
    if assessed is None:
        return ()
    current = {sp: t for sp, t in tallies.items() if t.period == assessed}
    clashes = sorted(sp for sp, t in current.items() if t.regions_clash)
    if clashes:
        raise ValidationError(
            [
                ("records", f"service point {describe(sp)} has two regions in {assessed}")
                for sp in clashes
            ]
        )
    region_units: dict[str, int] = {}
    region_claims: dict[str, int] = {}
    for tally in current.values():
        region_units[tally.region] = region_units.get(tally.region, 0) + tally.units
        region_claims[tally.region] = region_claims.get(tally.region, 0) + tally.claims
    ratio_limit = policy.outlier_ratio
    min_units = policy.outlier_min_units
    flags: list[OutlierFlag] = []
    for service_point in sorted(current):
        tally = current[service_point]
        rate = _rate(tally.claims, tally.units, min_units)
        if rate is None:
            continue
        references = (
            (
                Comparison.REGIONAL_PEERS,
                _rate(
                    region_claims[tally.region] - tally.claims,
                    region_units[tally.region] - tally.units,
                    min_units,
                ),
            ),
            (Comparison.OWN_HISTORY, _rate(tally.past_claims, tally.past_units, min_units)),
            (Comparison.PRODUCTION_QUALITY, defect_rate),
        )
        for comparison, reference in references:
            if reference is None:
                continue
            if reference == 0:
                ratio = None
                beyond = rate > 0
            else:
                ratio = rate / reference
                beyond = ratio > ratio_limit
            if beyond:
                flags.append(
                    OutlierFlag(
                        service_point=service_point,
                        region=tally.region,
                        period=assessed,
                        comparison=comparison,
                        rate=rate,
                        reference=reference,
                        ratio=ratio,
                    )
                )
    return tuple(flags)
