"""Tests of the three guarantees (docs/domain.md 4): rules, claim records, fraud control, parts."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csdomain.warranty
from csdomain.auth import AccessPolicy, Actor
from csdomain.desk.warranty import rules_from_plugins
from csdomain.errors import (
    CurrencyMismatch,
    InvalidTransition,
    PermissionDenied,
    PluginError,
    RuleViolation,
    ValidationError,
)
from csdomain.events import event_type
from csdomain.hookspecs import hookimpl
from csdomain.lifecycle import command_table, command_table_problems, transition_table_problems
from csdomain.money import Money
from csdomain.plugins import get_plugin_manager
from csdomain.serialization import from_json, to_json
from csdomain.testing.strategies_warranty import (
    claim_rate_records,
    covered_warranty_claims,
    quality_trends,
    reasons,
    repair_records,
    service_point_periods,
    spare_parts,
    warranty_claim_cases,
    warranty_claims,
    warranty_decisions,
    warranty_policies,
)
from csdomain.warranty import (
    BUILTIN_RULE_CODES,
    BUILTIN_RULES,
    WARRANTY_CLAIM_LIFECYCLE,
    WARRANTY_CLAIM_TRANSITIONS,
    BomLine,
    Cause,
    Comparison,
    Effect,
    ExchangeRecord,
    OutlierFlag,
    PartKind,
    PartQuote,
    ProductRecord,
    Proof,
    QualityTrend,
    Reason,
    RefundRecord,
    Remedy,
    RepairRecord,
    ReplacedPart,
    ServiceBom,
    ServicePointPeriod,
    SparePart,
    WarrantyClaim,
    WarrantyClaimCase,
    WarrantyClaimClosed,
    WarrantyClaimEvaluated,
    WarrantyClaimOutcome,
    WarrantyClaimOverridden,
    WarrantyClaimRepaired,
    WarrantyClaimStatus,
    WarrantyClaimSubmitted,
    WarrantyDecision,
    WarrantyPolicy,
    WarrantyRule,
    WarrantyTerms,
    check_extra_rules,
    claim_rate_outliers,
    evaluate_claim,
    event_for_last_change,
    quote_part,
)


R, E, P = Remedy.REFUND, Remedy.EXCHANGE, Remedy.REPAIR
ALL = frozenset({R, E, P})
NONE: frozenset[Remedy] = frozenset()
BOUGHT = date(2024, 1, 1)
POLICY = WarrantyPolicy()
AT = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
AGENT = Actor("agent-1", frozenset({"specialist"}))
TECH = Actor("tech-1", frozenset({"technician"}))
VP = Actor("vp-1", frozenset({"sales_vp"}))
ACCESS = AccessPolicy()


def claim(**changes: Any) -> WarrantyClaim:
    """A clean claim: invoice, performance fault, bought on 2024-01-01, fault on day 0."""
    facts: dict[str, Any] = {
        "product_serial": "SN-001",
        "category": "tv",
        "purchase_date": BOUGHT,
        "proof": Proof.INVOICE,
        "fault_date": BOUGHT,
        "cause": Cause.PERFORMANCE_FAULT,
    }
    facts.update(changes)
    return WarrantyClaim(**facts)


def on_day(n: int, **changes: Any) -> WarrantyClaim:
    """A clean claim whose fault is ``n`` calendar days after the purchase."""
    return claim(fault_date=BOUGHT + timedelta(days=n), **changes)


# -- the rule table ----------------------------------------------------------------------

RULE_CASES = [
    pytest.param(on_day(0), ALL, ("within_return_window",), id="day_0_refund_exchange_or_repair"),
    pytest.param(on_day(7), ALL, ("within_return_window",), id="day_7_still_return_window"),
    pytest.param(on_day(8), {E, P}, ("within_exchange_window",), id="day_8_exchange_or_repair"),
    pytest.param(on_day(15), {E, P}, ("within_exchange_window",), id="day_15_still_exchange"),
    pytest.param(on_day(16), {P}, ("within_warranty_period",), id="day_16_repair_only"),
    pytest.param(on_day(365), {P}, ("within_warranty_period",), id="day_365_still_warranty"),
    pytest.param(on_day(366), NONE, ("period_expired",), id="day_366_period_expired"),
    pytest.param(
        on_day(10, days_in_repair=3),
        ALL,
        ("within_return_window",),
        id="repair_days_extend_return_window_day_10_minus_3",
    ),
    pytest.param(
        on_day(11, days_in_repair=3),
        {E, P},
        ("within_exchange_window",),
        id="repair_days_day_11_minus_3_is_day_8",
    ),
    pytest.param(
        on_day(20, days_in_repair=5),
        {E, P},
        ("within_exchange_window",),
        id="repair_days_extend_exchange_window_day_20_minus_5",
    ),
    pytest.param(
        on_day(370, days_in_repair=5),
        {P},
        ("within_warranty_period",),
        id="repair_days_extend_warranty_day_370_minus_5",
    ),
    pytest.param(
        on_day(370, days_in_repair=4),
        NONE,
        ("period_expired",),
        id="repair_days_day_370_minus_4_is_day_366",
    ),
    pytest.param(
        claim(exchanged_on=date(2024, 6, 1), fault_date=date(2024, 6, 5)),
        ALL,
        ("within_return_window",),
        id="exchange_restarts_count_day_4_after_exchange",
    ),
    pytest.param(
        claim(
            purchase_date=date(2023, 1, 1),
            exchanged_on=date(2023, 12, 1),
            fault_date=date(2024, 11, 30),
        ),
        {P},
        ("within_warranty_period",),
        id="exchange_restarts_warranty_day_365_after_exchange",
    ),
    pytest.param(
        claim(
            purchase_date=date(2023, 1, 1),
            exchanged_on=date(2023, 12, 1),
            fault_date=date(2024, 12, 1),
        ),
        NONE,
        ("period_expired",),
        id="exchange_restarts_warranty_day_366_after_exchange",
    ),
    pytest.param(
        on_day(100, failed_repairs=1),
        {P},
        ("within_warranty_period",),
        id="one_failed_repair_still_repair",
    ),
    pytest.param(
        on_day(100, failed_repairs=2),
        {E, R},
        ("repeated_failure",),
        id="two_failed_repairs_exchange_or_refund",
    ),
    pytest.param(
        on_day(10, failed_repairs=2),
        {E, R},
        ("repeated_failure",),
        id="two_failed_repairs_in_exchange_window",
    ),
    pytest.param(
        on_day(5, failed_repairs=3),
        ALL,
        ("within_return_window",),
        id="failed_repairs_in_return_window_free_choice",
    ),
    pytest.param(
        on_day(400, failed_repairs=3),
        NONE,
        ("period_expired",),
        id="failed_repairs_after_expiry_not_covered",
    ),
    pytest.param(
        on_day(3, certificate_altered=True),
        NONE,
        ("certificate_altered",),
        id="certificate_altered",
    ),
    pytest.param(
        on_day(3, certificate_serial="SN-999"), NONE, ("serial_mismatch",), id="serial_mismatch"
    ),
    pytest.param(
        on_day(3, certificate_serial=" sn-001 "),
        ALL,
        ("within_return_window",),
        id="serial_match_ignores_case_and_spaces",
    ),
    pytest.param(on_day(3, cause=Cause.MISUSE), NONE, ("misuse",), id="misuse_of_manual"),
    pytest.param(
        on_day(3, cause=Cause.IMPROPER_INSTALLATION),
        NONE,
        ("improper_installation",),
        id="improper_installation",
    ),
    pytest.param(
        on_day(3, proof=Proof.NONE), NONE, ("no_proof_of_purchase",), id="no_certificate_no_invoice"
    ),
    pytest.param(
        on_day(3, proof=Proof.CERTIFICATE),
        ALL,
        ("within_return_window",),
        id="certificate_is_proof",
    ),
    pytest.param(
        on_day(3, proof=Proof.OTHER),
        ALL,
        ("within_return_window",),
        id="other_proof_with_date_counts_as_proof",
    ),
    pytest.param(
        on_day(3, proof=Proof.OTHER, purchase_date=None),
        {P},
        ("purchase_date_unknown", "within_warranty_period"),
        id="other_proof_without_date_repair_only",
    ),
    pytest.param(
        on_day(3, proof=Proof.OTHER, purchase_date=None, failed_repairs=2),
        {E, R},
        ("purchase_date_unknown", "repeated_failure"),
        id="other_proof_without_date_repeated_failure",
    ),
    pytest.param(
        on_day(3, proof=Proof.NONE, purchase_date=None),
        NONE,
        ("no_proof_of_purchase", "purchase_date_unknown"),
        id="no_proof_and_no_date",
    ),
    pytest.param(
        on_day(3, cause=Cause.HUMAN_DAMAGE), NONE, ("human_damage",), id="damage_caused_by_people"
    ),
    pytest.param(
        on_day(3, cause=Cause.FORCE_MAJEURE), NONE, ("force_majeure",), id="force_majeure"
    ),
    pytest.param(
        on_day(3, unauthorised_repair=True),
        NONE,
        ("unauthorised_repair",),
        id="unauthorised_repair",
    ),
    pytest.param(
        on_day(3, cause=Cause.UNKNOWN),
        NONE,
        ("cause_not_established", "no_remedy"),
        id="unknown_cause_needs_inspection",
    ),
    pytest.param(
        on_day(
            400,
            certificate_altered=True,
            certificate_serial="OTHER",
            cause=Cause.MISUSE,
            unauthorised_repair=True,
        ),
        NONE,
        (
            "period_expired",
            "certificate_altered",
            "serial_mismatch",
            "misuse",
            "unauthorised_repair",
        ),
        id="all_exclusions_reported_together",
    ),
]


@pytest.mark.parametrize(("facts", "remedies", "codes"), RULE_CASES)
def test_three_guarantee_rules(
    facts: WarrantyClaim, remedies: set[Remedy], codes: tuple[str, ...]
) -> None:
    decision = evaluate_claim(facts, POLICY)
    assert decision.remedies == frozenset(remedies)
    assert decision.covered is bool(remedies)
    assert decision.reason_codes == codes
    assert decision.policy_version == POLICY.version
    assert all(reason.message.endswith(".") for reason in decision.reasons)


def test_day_number_subtracts_repair_days_from_calendar_days() -> None:
    facts = on_day(30, days_in_repair=12)
    assert facts.warranty_day == 18
    assert evaluate_claim(facts, POLICY).warranty_day == 18


def test_the_validity_period_leaves_out_time_in_repair_and_waiting_for_parts() -> None:
    # 扣除因修理占用和无零配件待修的时间: day 370 with 5 days in repair or waiting for parts
    # is day 365, still within the period; with 4 it is day 366, past it
    assert evaluate_claim(on_day(370, days_in_repair=5), POLICY).covered
    assert evaluate_claim(on_day(370, days_in_repair=4), POLICY).reason_codes == ("period_expired",)


def test_the_validity_period_restarts_after_an_exchange() -> None:
    # 换货后的三包有效期自换货之日起重新计算
    late = claim(purchase_date=date(2023, 1, 1), exchanged_on=date(2023, 12, 1))
    assert evaluate_claim(attrs.evolve(late, fault_date=date(2024, 11, 30)), POLICY).covered
    assert evaluate_claim(on_day(400), POLICY).covered is False


def test_a_repair_waiting_more_than_90_days_for_parts_is_exchanged_free() -> None:
    # art. 12: not repaired more than 90 days after it was handed in, for want of parts
    waiting = on_day(200, days_awaiting_repair=91, awaiting_parts=True)
    decision = evaluate_claim(waiting, POLICY)
    assert decision.remedies == {P, E}
    assert "parts_not_supplied" in decision.reason_codes
    assert evaluate_claim(attrs.evolve(waiting, days_awaiting_repair=90), POLICY).remedies == {P}
    # outside the validity period the rule does not apply
    expired = on_day(400, days_awaiting_repair=120, awaiting_parts=True)
    assert evaluate_claim(expired, POLICY).reason_codes == ("period_expired",)


def test_a_repair_over_30_days_through_the_repairers_fault_is_exchanged_free() -> None:
    # art. 12: 因修理者自身原因使修理期超过30日的, 由其免费为消费者调换
    slow = on_day(100, days_awaiting_repair=31)
    decision = evaluate_claim(slow, POLICY)
    assert decision.remedies == {P, E}
    assert "repair_overrun" in decision.reason_codes
    assert evaluate_claim(on_day(100, days_awaiting_repair=30), POLICY).remedies == {P}
    # waiting for parts, the repairer has 90 days
    assert evaluate_claim(attrs.evolve(slow, awaiting_parts=True), POLICY).remedies == {P}


def test_a_repair_guarantees_30_days_of_normal_use() -> None:
    # 修理者应当保证修理后的产品能够正常使用30日以上: the fault back 20 days after a repair
    # on day 350 is repaired free even on day 370, past the 365-day period
    again = on_day(370, last_repaired_on=BOUGHT + timedelta(days=350))
    assert again.days_since_repair == 20
    decision = evaluate_claim(again, POLICY)
    assert decision.remedies == {P}
    assert decision.reason_codes == ("within_repair_guarantee",)
    too_late = on_day(385, last_repaired_on=BOUGHT + timedelta(days=350))
    assert evaluate_claim(too_late, POLICY).reason_codes == ("period_expired",)
    misuse = attrs.evolve(again, cause=Cause.MISUSE)
    assert not evaluate_claim(misuse, POLICY).covered
    with pytest.raises(ValidationError) as info:
        on_day(10, last_repaired_on=BOUGHT + timedelta(days=20))
    assert [path for path, _ in info.value.errors] == ["last_repaired_on"]


def test_exchange_date_is_the_start_of_the_count() -> None:
    facts = claim(exchanged_on=date(2024, 5, 1), fault_date=date(2024, 5, 9))
    assert facts.start_date == date(2024, 5, 1)
    assert facts.warranty_day == 8


def test_exclusion_messages_explain_the_numbers() -> None:
    decision = evaluate_claim(on_day(366), POLICY)
    assert decision.reasons[0].message == (
        "Day 366 after purchase is past the 365-day warranty period."
    )
    assert decision.exclusions == decision.reasons


def test_covered_decision_states_its_window() -> None:
    (reason,) = evaluate_claim(on_day(9), POLICY).reasons
    assert reason.effect is Effect.GRANTS
    assert reason.message == (
        "Day 9 after purchase is within the 15-day exchange window: "
        "the customer chooses exchange or repair."
    )


# -- policy ------------------------------------------------------------------------------


def test_policy_defaults_are_the_regulations_numbers_and_the_documents_multiple() -> None:
    # 7 / 15 days, two failed repairs: 部分商品修理更换退货责任规定 arts. 9-11 (the documents
    # name the three guarantees without numbers); the 2x spare-part multiple is the
    # documents' (成品经销商结算价的2倍)
    assert (POLICY.return_days, POLICY.exchange_days, POLICY.warranty_days) == (7, 15, 365)
    assert POLICY.max_failed_repairs == 2
    assert (POLICY.parts_wait_exchange_days, POLICY.repair_overrun_exchange_days) == (90, 30)
    assert POLICY.repair_guarantee_days == 30
    assert POLICY.assembled_part_multiple == Decimal(2)
    assert POLICY.rules == BUILTIN_RULE_CODES
    assert tuple(rule.code for rule in BUILTIN_RULES) == BUILTIN_RULE_CODES


def test_category_override_changes_the_windows_for_that_category_only() -> None:
    policy = WarrantyPolicy(
        category_overrides={"phone": WarrantyTerms(warranty_days=730, exchange_days=30)},
        version="2024-phones",
    )
    phone = policy.for_category("phone")
    assert (phone.return_days, phone.exchange_days, phone.warranty_days) == (7, 30, 730)
    assert policy.for_category("tv") is policy
    assert evaluate_claim(on_day(500, category="phone"), policy).remedies == {P}
    assert evaluate_claim(on_day(20, category="phone"), policy).remedies == {E, P}
    assert not evaluate_claim(on_day(500, category="tv"), policy).covered
    assert evaluate_claim(on_day(500, category="phone"), policy).policy_version == "2024-phones"


def test_inactive_rule_is_not_applied() -> None:
    rules = tuple(code for code in BUILTIN_RULE_CODES if code != "serial_mismatch")
    policy = WarrantyPolicy(rules=rules)
    assert evaluate_claim(on_day(3, certificate_serial="SN-999"), policy).remedies == ALL


def test_no_active_rule_means_no_remedy() -> None:
    decision = evaluate_claim(on_day(3), WarrantyPolicy(rules=()))
    assert not decision.covered
    assert decision.reason_codes == ("no_remedy",)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        pytest.param({"return_days": -1}, "return_days", id="negative_return_days"),
        pytest.param({"exchange_days": 5}, "exchange_days", id="exchange_shorter_than_return"),
        pytest.param({"warranty_days": 10}, "warranty_days", id="warranty_shorter_than_exchange"),
        pytest.param({"max_failed_repairs": 0}, "max_failed_repairs", id="zero_repairs"),
        pytest.param({"rules": ("no_such_rule",)}, "rules.0", id="unknown_rule"),
        pytest.param({"rules": ("misuse", "misuse")}, "rules.1", id="rule_listed_twice"),
        pytest.param({"tax_rate": Decimal(-1)}, "tax_rate", id="negative_tax"),
        pytest.param({"tax_rate": 0.13}, "tax_rate", id="float_tax"),
        pytest.param({"freight": Decimal("1.234")}, "freight", id="freight_past_minor_unit"),
        pytest.param({"currency": "yuan"}, "currency", id="bad_currency"),
        pytest.param({"outlier_ratio": Decimal("0.5")}, "outlier_ratio", id="ratio_below_one"),
        pytest.param({"version": " "}, "version", id="blank_version"),
        pytest.param(
            {"category_overrides": {"phone": WarrantyTerms(exchange_days=400)}},
            "category_overrides.phone.warranty_days",
            id="override_breaks_window_order",
        ),
    ],
)
def test_policy_rejects_bad_numbers(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        WarrantyPolicy(**changes)
    assert path in [p for p, _ in info.value.errors]


# -- claim validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        pytest.param({"failed_repairs": -1}, "failed_repairs", id="negative_failed_repairs"),
        pytest.param({"days_in_repair": -2}, "days_in_repair", id="negative_repair_days"),
        pytest.param({"failed_repairs": True}, "failed_repairs", id="bool_is_not_a_count"),
        pytest.param({"fault_date": date(2023, 12, 31)}, "fault_date", id="fault_before_purchase"),
        pytest.param(
            {"exchanged_on": date(2023, 12, 1)}, "exchanged_on", id="exchange_before_purchase"
        ),
        pytest.param(
            {"exchanged_on": date(2024, 2, 1), "fault_date": date(2024, 1, 20)},
            "fault_date",
            id="fault_before_exchange",
        ),
        pytest.param(
            {"fault_date": date(2024, 1, 5), "days_in_repair": 5},
            "days_in_repair",
            id="more_repair_days_than_elapsed",
        ),
        pytest.param({"purchase_date": None}, "purchase_date", id="invoice_without_date"),
        pytest.param({"product_serial": ""}, "product_serial", id="empty_serial"),
        pytest.param({"category": "  "}, "category", id="blank_category"),
        pytest.param({"certificate_serial": ""}, "certificate_serial", id="empty_certificate"),
        pytest.param({"fault_date": "2024-01-05"}, "fault_date", id="fault_date_as_text"),
        pytest.param(
            {"fault_date": datetime(2024, 1, 5, tzinfo=UTC)}, "fault_date", id="datetime_not_date"
        ),
        pytest.param({"cause": "bad_luck"}, "cause", id="unknown_cause"),
        pytest.param({"proof": "receipt"}, "proof", id="unknown_proof"),
        pytest.param({"attributes": {"km": 1.5}}, "attributes.km", id="float_attribute"),
        pytest.param({"attributes": {"km": True}}, "attributes.km", id="bool_attribute"),
        pytest.param({"certificate_altered": "no"}, "certificate_altered", id="flag_not_bool"),
    ],
)
def test_claim_validation_names_the_bad_field(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        claim(**changes)
    assert path in [p for p, _ in info.value.errors]


def test_claim_validation_reports_every_bad_field() -> None:
    with pytest.raises(ValidationError) as info:
        claim(failed_repairs=-1, days_in_repair=-1, fault_date=date(2023, 1, 1))
    paths = {p for p, _ in info.value.errors}
    assert paths == {"failed_repairs", "days_in_repair", "fault_date"}


def test_claim_from_untrusted_json_reports_paths() -> None:
    with pytest.raises(ValidationError) as info:
        from_json(WarrantyClaim, b'{"product_serial": "A"}')
    assert "category" in [p for p, _ in info.value.errors]


# -- reasons and decisions ---------------------------------------------------------------


def test_decision_must_match_its_remedies() -> None:
    reason = Reason.note("x", "A note.")
    with pytest.raises(ValidationError):
        WarrantyDecision(covered=True, remedies=NONE, reasons=(reason,), policy_version="1")
    with pytest.raises(ValidationError):
        WarrantyDecision(covered=False, remedies={P}, reasons=(reason,), policy_version="1")
    with pytest.raises(ValidationError):
        WarrantyDecision(covered=False, remedies=NONE, reasons=(), policy_version="1")


def test_reason_codes_are_snake_case_and_effects_consistent() -> None:
    with pytest.raises(ValidationError):
        Reason("Not Snake", "A message.")
    with pytest.raises(ValidationError):
        Reason.grants("grant_nothing", "Grants nothing.")
    with pytest.raises(ValidationError):
        Reason("note_with_remedy", "A note.", Effect.NOTE, frozenset({P}))


# -- plugin rules --------------------------------------------------------------------------


@attrs.frozen
class MileageLimit:
    """Vehicles are covered up to a mileage (an industry rule from a plugin)."""

    max_km: int
    code: str = "mileage_exceeded"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> Iterator[Reason]:
        km = claim.attributes.get("mileage_km")
        if claim.category == "vehicle" and isinstance(km, int) and km > self.max_km:
            yield Reason.excludes(self.code, f"{km} km is past the {self.max_km} km limit.")


@attrs.frozen
class NoRefundForCustomBuilds:
    """A plugin rule that limits remedies: custom-built goods are never refunded."""

    code: str = "custom_build"

    def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
        if claim.attributes.get("custom") != "yes":
            return ()
        return (Reason.limits(self.code, "Custom builds are exchanged or repaired.", E, P),)


class VehiclePlugin:
    @hookimpl
    def csdomain_warranty_rules(self) -> Iterable[WarrantyRule]:
        return [MileageLimit(max_km=100_000)]


class CustomBuildPlugin:
    @hookimpl
    def csdomain_warranty_rules(self) -> Iterable[WarrantyRule]:
        return (NoRefundForCustomBuilds(),)


def test_plugin_rules_come_from_the_hook() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(VehiclePlugin())
    pm.register(CustomBuildPlugin())
    rules = rules_from_plugins(pm)
    assert sorted(rule.code for rule in rules) == ["custom_build", "mileage_exceeded"]


def test_plugin_mileage_rule_excludes_a_high_mileage_vehicle() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(VehiclePlugin())
    rules = rules_from_plugins(pm)
    worn = on_day(100, category="vehicle", attributes={"mileage_km": 120_000})
    fresh = on_day(100, category="vehicle", attributes={"mileage_km": 80_000})
    decision = evaluate_claim(worn, POLICY, extra_rules=rules)
    assert not decision.covered
    assert decision.reason_codes == ("mileage_exceeded",)
    assert evaluate_claim(fresh, POLICY, extra_rules=rules).remedies == {P}


def test_plugin_limit_rule_removes_remedies() -> None:
    rule = NoRefundForCustomBuilds()
    decision = evaluate_claim(on_day(2, attributes={"custom": "yes"}), POLICY, extra_rules=[rule])
    assert decision.remedies == {E, P}
    assert decision.reason_codes == ("within_return_window", "custom_build")


def test_plugin_limit_to_nothing_leaves_no_remedy() -> None:
    rule = NoRefundForCustomBuilds()
    decision = evaluate_claim(
        on_day(100, failed_repairs=2, attributes={"custom": "yes"}), POLICY, extra_rules=[rule]
    )
    assert decision.remedies == {E}
    nothing = Reason.limits("frozen", "Nothing may be done.")

    @attrs.frozen
    class Freeze:
        code: str = "frozen"

        def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> tuple[Reason, ...]:
            return (nothing,)

    frozen = evaluate_claim(on_day(2), POLICY, extra_rules=[Freeze()])
    assert not frozen.covered
    assert frozen.reason_codes[-1] == "no_remedy"


def test_plugin_returning_a_non_rule_is_a_plugin_error() -> None:
    class Broken:
        @hookimpl
        def csdomain_warranty_rules(self) -> Iterable[object]:
            return ["not a rule"]

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Broken())
    with pytest.raises(PluginError):
        rules_from_plugins(pm)


def test_plugin_rule_codes_are_unique() -> None:
    class Twice:
        @hookimpl
        def csdomain_warranty_rules(self) -> Iterable[WarrantyRule]:
            return [MileageLimit(1), MileageLimit(2)]

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Twice())
    with pytest.raises(PluginError, match="mileage_exceeded"):
        rules_from_plugins(pm)
    clash = get_plugin_manager(load_entrypoints=False)
    clash.register(VehiclePlugin())

    class Shadow:
        @hookimpl
        def csdomain_warranty_rules(self) -> Iterable[WarrantyRule]:
            return [MileageLimit(1, code="misuse")]

    clash.register(Shadow())
    with pytest.raises(PluginError, match="misuse"):
        rules_from_plugins(clash)


def test_plugin_answer_that_is_not_a_list_is_a_plugin_error() -> None:
    class Careless:
        @hookimpl
        def csdomain_warranty_rules(self) -> object:
            return 42

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Careless())
    with pytest.raises(PluginError, match="not a list"):
        rules_from_plugins(pm)


def test_extra_rules_are_checked_without_a_plugin_manager() -> None:
    assert check_extra_rules([MileageLimit(1)]) == (MileageLimit(1),)
    with pytest.raises(PluginError, match="not a WarrantyRule"):
        check_extra_rules([object()])
    with pytest.raises(PluginError, match="snake_case"):
        check_extra_rules([MileageLimit(1, code="Mileage Limit")])


def test_the_warranty_package_does_not_know_the_plugin_manager() -> None:
    code = "import sys, csdomain.warranty; print('pluggy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    assert not hasattr(csdomain.warranty, "rules_from_plugins")


def test_rule_returning_a_non_reason_is_a_plugin_error() -> None:
    @attrs.frozen
    class Sloppy:
        code: str = "sloppy"

        def assess(self, claim: WarrantyClaim, policy: WarrantyPolicy) -> list[str]:
            return ["covered!"]

    with pytest.raises(PluginError, match="sloppy"):
        evaluate_claim(on_day(1), POLICY, extra_rules=[Sloppy()])  # type: ignore[list-item]


# -- properties ----------------------------------------------------------------------------


@given(warranty_claims(), warranty_policies())
def test_decision_with_any_exclusion_is_never_covered(facts: WarrantyClaim, policy: Any) -> None:
    decision = evaluate_claim(facts, policy)
    if decision.exclusions:
        assert not decision.covered
        assert decision.remedies == NONE


_EXCLUDING_CHANGES = st.sampled_from(
    [
        {"certificate_altered": True},
        {"certificate_serial": "MISMATCH-0"},
        {"cause": Cause.MISUSE},
        {"cause": Cause.IMPROPER_INSTALLATION},
        {"cause": Cause.HUMAN_DAMAGE},
        {"cause": Cause.FORCE_MAJEURE},
        {"unauthorised_repair": True},
        {"proof": Proof.NONE},
    ]
)


@given(covered_warranty_claims(), _EXCLUDING_CHANGES)
def test_an_excluding_fact_always_removes_coverage(
    facts: WarrantyClaim, changes: dict[str, Any]
) -> None:
    assert evaluate_claim(facts, POLICY).covered
    assert not evaluate_claim(attrs.evolve(facts, **changes), POLICY).covered


@given(warranty_claims(), warranty_policies(), st.integers(1, 500))
def test_more_days_since_purchase_never_adds_remedies(
    facts: WarrantyClaim, policy: WarrantyPolicy, more: int
) -> None:
    later = attrs.evolve(facts, fault_date=facts.fault_date + timedelta(days=more))
    assert evaluate_claim(later, policy).remedies <= evaluate_claim(facts, policy).remedies


@given(warranty_claims(), st.integers(1, 30))
def test_repair_days_never_take_remedies_away(facts: WarrantyClaim, repair: int) -> None:
    start = facts.start_date
    elapsed = (facts.fault_date - start).days if start is not None else 0
    longer = attrs.evolve(facts, days_in_repair=min(elapsed, facts.days_in_repair + repair))
    assert evaluate_claim(longer, POLICY).remedies >= evaluate_claim(facts, POLICY).remedies


@given(warranty_claims(), warranty_policies())
def test_every_decision_has_at_least_one_reason(
    facts: WarrantyClaim, policy: WarrantyPolicy
) -> None:
    decision = evaluate_claim(facts, policy)
    assert decision.reasons
    assert decision.covered == bool(decision.remedies)


@given(warranty_claims())
def test_claims_round_trip_through_json(facts: WarrantyClaim) -> None:
    assert from_json(WarrantyClaim, to_json(facts)) == facts


@given(warranty_decisions())
def test_decisions_round_trip_through_json(decision: WarrantyDecision) -> None:
    assert from_json(WarrantyDecision, to_json(decision)) == decision


@given(warranty_policies())
def test_policies_round_trip_through_json(policy: WarrantyPolicy) -> None:
    assert from_json(WarrantyPolicy, to_json(policy)) == policy


@given(reasons())
def test_reasons_round_trip_through_json(reason: Reason) -> None:
    assert from_json(Reason, to_json(reason)) == reason


@given(warranty_claim_cases())
def test_claim_cases_round_trip_through_json(case: WarrantyClaimCase) -> None:
    assert from_json(WarrantyClaimCase, to_json(case)) == case


@given(warranty_claim_cases())
def test_claim_history_follows_the_transition_table(case: WarrantyClaimCase) -> None:
    steps = case.history
    assert steps[0].from_ is None
    assert steps[0].to == WarrantyClaimStatus.SUBMITTED
    for before, after in itertools.pairwise(steps):
        assert after.from_ == before.to
        assert (
            WarrantyClaimStatus(after.to)
            in WARRANTY_CLAIM_TRANSITIONS[WarrantyClaimStatus(before.to)]
        )
        assert after.at >= before.at
    assert steps[-1].to == case.status


@given(warranty_claim_cases())
def test_carried_out_remedy_is_always_allowed(case: WarrantyClaimCase) -> None:
    done = {
        Remedy.REPAIR: bool(case.repairs),
        Remedy.EXCHANGE: case.exchange is not None,
        Remedy.REFUND: case.refund is not None,
    }
    for remedy, happened in done.items():
        if happened:
            assert remedy in case.allowed_remedies


@given(warranty_claim_cases())
def test_every_step_has_an_event_that_round_trips(case: WarrantyClaimCase) -> None:
    event = event_for_last_change(case)
    assert from_json(type(event), to_json(event)) == event


# -- claim records -----------------------------------------------------------------------


def product(**changes: Any) -> ProductRecord:
    facts: dict[str, Any] = {
        "serial": "SN-001",
        "model": "TV-55",
        "category": "tv",
        "sold_on": BOUGHT,
        "order_id": "SO-202401-0007",
    }
    facts.update(changes)
    return ProductRecord(**facts)


def submitted(facts: WarrantyClaim | None = None, **changes: Any) -> WarrantyClaimCase:
    fields: dict[str, Any] = {
        "id": "WC-202403-0001",
        "claim": on_day(3) if facts is None else facts,
        "product": product(),
        "customer_id": "BJ-202401-ZHANG-001",
        "complaint_id": "CP-9",
        "at": AT,
        "by": AGENT,
    }
    fields.update(changes)
    return WarrantyClaimCase.submit(**fields)


def test_transition_table_is_well_formed() -> None:
    problems = transition_table_problems(
        WARRANTY_CLAIM_TRANSITIONS,
        list(WarrantyClaimStatus),
        [WarrantyClaimStatus.SUBMITTED],
        [WarrantyClaimStatus.CLOSED],
    )
    assert problems == []
    assert WARRANTY_CLAIM_LIFECYCLE.transitions is WARRANTY_CLAIM_TRANSITIONS
    assert command_table_problems(WARRANTY_CLAIM_LIFECYCLE) == []


def test_the_docs_show_the_command_table() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "warranty.md").read_text("utf-8")
    assert f"\n{command_table(WARRANTY_CLAIM_LIFECYCLE)}\n" in page


def test_every_step_of_a_claim_is_a_command_of_its_lifecycle() -> None:
    steps = {"evaluate", "approve", "override", "record_repair", "record_exchange"}
    assert set(WARRANTY_CLAIM_LIFECYCLE.commands) == steps | {"record_refund", "close"}
    assert all(callable(getattr(WarrantyClaimCase, step)) for step in steps)


def test_claim_needs_a_matching_product_record() -> None:
    with pytest.raises(ValidationError) as info:
        submitted(product=product(serial="SN-777"))
    assert [p for p, _ in info.value.errors] == ["claim.product_serial"]
    with pytest.raises(ValidationError):
        submitted(product=product(category="washer"))
    with pytest.raises(ValidationError):
        submitted(product=None)


def test_claim_needs_customer_data() -> None:
    with pytest.raises(ValidationError) as info:
        submitted(customer_id=" ")
    assert [p for p, _ in info.value.errors] == ["customer_id"]


def test_submitted_claim_links_customer_order_and_complaint() -> None:
    case = submitted()
    assert case.status is WarrantyClaimStatus.SUBMITTED
    assert case.order_id == "SO-202401-0007"
    assert case.complaint_id == "CP-9"
    assert case.customer_id == "BJ-202401-ZHANG-001"
    assert case.submitted_at == AT
    assert submitted(order_id="SO-OTHER").order_id == "SO-OTHER"


def test_repair_claim_lifecycle_keeps_complete_records() -> None:
    case = submitted(on_day(40)).evaluate(POLICY, at=AT, by=AGENT)
    assert case.decision is not None
    assert case.decision.remedies == {P}
    assert case.decision.policy_version == "1"
    case = case.approve(at=AT + timedelta(hours=1), by=AGENT)
    first = RepairRecord(
        technician="tech-1",
        at=AT + timedelta(days=1),
        work_done="replaced the power board",
        parts=(ReplacedPart(part_number="PB-55", removed_serial="PB-1", installed_serial="PB-2"),),
        fault_cleared=False,
    )
    second = RepairRecord(
        technician="tech-2", at=AT + timedelta(days=3), work_done="re-soldered the connector"
    )
    case = case.record_repair(first, by=TECH).record_repair(second, by=TECH)
    assert case.repairs == (first, second)
    closed = case.close(at=AT + timedelta(days=4), by=AGENT, note="customer satisfied")
    assert closed.outcome is WarrantyClaimOutcome.REPAIRED
    assert [step.to for step in closed.history] == [
        "submitted",
        "evaluated",
        "approved",
        "repaired",
        "repaired",
        "closed",
    ]
    assert closed.history[3].by == "tech-1"
    assert closed.history[3].note == "replaced the power board"


def test_only_a_covered_claim_can_be_approved() -> None:
    case = submitted(on_day(3, cause=Cause.MISUSE)).evaluate(POLICY, at=AT, by=AGENT)
    with pytest.raises(RuleViolation) as info:
        case.approve(at=AT, by=AGENT)
    assert info.value.code == "claim_not_covered"
    assert info.value.details["reasons"] == ["misuse"]


def test_not_covered_claim_closes_as_rejected() -> None:
    case = submitted(on_day(400)).evaluate(POLICY, at=AT, by=AGENT)
    assert case.close(at=AT, by=AGENT).outcome is WarrantyClaimOutcome.REJECTED


def test_withdrawn_claim_closes_as_withdrawn() -> None:
    assert submitted().close(at=AT, by=AGENT).outcome is WarrantyClaimOutcome.WITHDRAWN


def test_override_needs_override_permission() -> None:
    case = submitted(on_day(3, cause=Cause.MISUSE)).evaluate(POLICY, at=AT, by=AGENT)
    with pytest.raises(PermissionDenied):
        case.override({R}, reason="key account", at=AT, by=AGENT, access=ACCESS)


def test_override_needs_a_written_reason() -> None:
    case = submitted(on_day(3, cause=Cause.MISUSE)).evaluate(POLICY, at=AT, by=AGENT)
    with pytest.raises(ValidationError) as info:
        case.override({R}, reason="   ", at=AT, by=VP, access=ACCESS)
    assert [p for p, _ in info.value.errors] == ["reason"]
    with pytest.raises(ValidationError):
        case.override(set(), reason="goodwill", at=AT, by=VP, access=ACCESS)


def test_override_grants_remedies_against_the_rules() -> None:
    case = submitted(on_day(3, cause=Cause.MISUSE)).evaluate(POLICY, at=AT, by=AGENT)
    case = case.override({R}, reason=" long-standing key account ", at=AT, by=VP, access=ACCESS)
    assert case.status is WarrantyClaimStatus.OVERRIDDEN
    assert case.manual_override is not None
    assert case.manual_override.reason == "long-standing key account"
    assert case.manual_override.by == "vp-1"
    assert case.allowed_remedies == {R}
    case = case.record_refund(
        RefundRecord(amount=Money.of("3999.00", "CNY"), at=AT + timedelta(days=1)), by=AGENT
    )
    assert case.close(at=AT + timedelta(days=1), by=AGENT).outcome is WarrantyClaimOutcome.REFUNDED


def test_chosen_remedy_must_be_allowed_by_the_decision() -> None:
    case = submitted(on_day(40)).evaluate(POLICY, at=AT, by=AGENT).approve(at=AT, by=AGENT)
    with pytest.raises(RuleViolation) as info:
        case.record_refund(RefundRecord(amount=Money.of("10", "CNY"), at=AT), by=AGENT)
    assert info.value.code == "remedy_not_allowed"
    with pytest.raises(RuleViolation):
        case.record_exchange(ExchangeRecord(new_serial="SN-002", at=AT), by=AGENT)


def test_exchange_records_the_new_serial() -> None:
    case = submitted(on_day(10)).evaluate(POLICY, at=AT, by=AGENT).approve(at=AT, by=AGENT)
    with pytest.raises(ValidationError):
        case.record_exchange(ExchangeRecord(new_serial="sn-001", at=AT), by=AGENT)
    case = case.record_exchange(ExchangeRecord(new_serial="SN-002", at=AT), by=AGENT)
    assert case.exchange is not None
    assert case.exchange.new_serial == "SN-002"
    assert case.status is WarrantyClaimStatus.EXCHANGED


def test_steps_out_of_order_are_invalid_transitions() -> None:
    case = submitted()
    with pytest.raises(InvalidTransition):
        case.approve(at=AT, by=AGENT)
    with pytest.raises(InvalidTransition):
        case.record_repair(RepairRecord(technician="t", at=AT, work_done="w"), by=TECH)
    closed = case.close(at=AT, by=AGENT)
    with pytest.raises(InvalidTransition):
        closed.evaluate(POLICY, at=AT, by=AGENT)


def test_a_refused_step_names_the_action_and_what_comes_first() -> None:
    case = submitted()
    with pytest.raises(InvalidTransition) as info:
        case.approve(at=AT, by=AGENT)
    assert (info.value.action, info.value.hint) == ("approve", "evaluate the claim first")
    assert str(info.value) == (
        "warranty claim 'WC-202403-0001' cannot approve while submitted: evaluate the claim first"
    )
    evaluated = case.evaluate(POLICY, at=AT, by=AGENT)
    with pytest.raises(InvalidTransition) as info:
        evaluated.record_exchange(ExchangeRecord(new_serial="SN-002", at=AT), by=AGENT)
    assert info.value.action == "record_exchange"
    assert info.value.hint == "approve the claim first"
    with pytest.raises(InvalidTransition) as info:
        case.close(at=AT, by=AGENT).evaluate(POLICY, at=AT, by=AGENT)
    assert str(info.value) == "warranty claim 'WC-202403-0001' cannot evaluate while closed"
    assert (info.value.from_status, info.value.to_status) == ("closed", "evaluated")


def test_claim_steps_never_go_back_in_time() -> None:
    with pytest.raises(ValidationError) as info:
        submitted().evaluate(POLICY, at=AT - timedelta(seconds=1), by=AGENT)
    assert [p for p, _ in info.value.errors] == ["at"]


def test_naive_step_time_is_rejected() -> None:
    with pytest.raises(ValidationError):
        submitted().close(at=datetime(2024, 3, 2), by=AGENT)


def test_reevaluation_after_inspection_replaces_the_facts() -> None:
    case = submitted(on_day(3, cause=Cause.UNKNOWN)).evaluate(POLICY, at=AT, by=AGENT)
    assert case.decision is not None
    assert not case.decision.covered
    inspected = attrs.evolve(case.claim, cause=Cause.PERFORMANCE_FAULT)
    case = case.evaluate(POLICY, at=AT, by=TECH, claim=inspected)
    assert case.decision is not None
    assert case.decision.remedies == ALL
    assert case.claim.cause is Cause.PERFORMANCE_FAULT
    with pytest.raises(ValidationError):
        case.evaluate(POLICY, at=AT, by=TECH, claim=attrs.evolve(inspected, product_serial="X"))


def _decision(**changes: Any) -> WarrantyDecision:
    return attrs.evolve(evaluate_claim(on_day(3), POLICY), **changes)


def _case_with(**changes: Any) -> WarrantyClaimCase:
    return attrs.evolve(submitted().evaluate(POLICY, at=AT, by=AGENT), **changes)


def _quote(**changes: Any) -> PartQuote:
    one = Money.of("1.00", "CNY")
    fields: dict[str, Any] = {
        "part_number": "S-1",
        "quantity": 1,
        "unit_price": one,
        "list_price": one,
        "tax_rate": Decimal(0),
        "tax": Money.of("0.00", "CNY"),
        "freight": Money.of("0.00", "CNY"),
        "total": one,
    }
    fields.update(changes)
    return PartQuote(**fields)


def _flag(**changes: Any) -> OutlierFlag:
    fields: dict[str, Any] = {
        "service_point": "SP1",
        "comparison": Comparison.OWN_HISTORY,
        "rate": Decimal(1),
        "reference": Decimal(1),
        "ratio": None,
    }
    fields.update(changes)
    return OutlierFlag(**fields)


def wrong(value: object) -> Any:
    """``value``, of a type the field does not take (hidden from the type checker)."""
    return value


WRONG_TYPES = [
    pytest.param(
        lambda: ExchangeRecord(new_serial="SN-2", at=AT, note=wrong(1.5)), "note", id="exchange"
    ),
    pytest.param(
        lambda: RefundRecord(amount=Money.of("1", "CNY"), at=AT, note=wrong({})),
        "note",
        id="refund",
    ),
    pytest.param(lambda: _decision(covered="yes"), "covered", id="decision_covered"),
    pytest.param(lambda: _decision(warranty_day=True), "warranty_day", id="decision_day"),
    pytest.param(lambda: WarrantyTerms(return_days=wrong("7")), "return_days", id="terms"),
    pytest.param(
        lambda: WarrantyPolicy(claim_number_pattern=wrong(1.5)),
        "claim_number_pattern",
        id="pattern",
    ),
    pytest.param(lambda: WarrantyPolicy(currency=wrong(None)), "currency", id="policy_currency"),
    pytest.param(lambda: WarrantyPolicy(rules=wrong(({},))), "rules.0", id="unhashable_rule"),
    pytest.param(lambda: _case_with(status="approved"), "status", id="case_status"),
    pytest.param(lambda: _case_with(decision=1.5), "decision", id="case_decision"),
    pytest.param(lambda: _case_with(repairs=[]), "repairs", id="case_repairs_list"),
    pytest.param(lambda: _case_with(outcome="rejected"), "outcome", id="case_outcome"),
    pytest.param(lambda: _case_with(history=None), "history", id="case_history"),
    pytest.param(
        lambda: _case_with(history=(*submitted().history, "evaluated")),
        "history.1",
        id="case_history_item",
    ),
    pytest.param(
        # the history entry itself refuses the note when it is built
        lambda: _case_with(history=(attrs.evolve(submitted().history[0], note=wrong(-1)),)),
        "note",
        id="case_history_note",
    ),
    pytest.param(
        lambda: SparePart(part_number="S-1", name="belt", kind=PartKind.STANDARD, cost=wrong(1.5)),
        "cost",
        id="spare_part_cost",
    ),
    pytest.param(lambda: _quote(unit_price=Decimal(1)), "unit_price", id="quote_price"),
    pytest.param(lambda: _quote(tax_rate=0.13), "tax_rate", id="quote_tax_rate"),
    pytest.param(lambda: _flag(rate=1.5), "rate", id="outlier_rate"),
    pytest.param(lambda: _flag(comparison="own_history"), "comparison", id="outlier_comparison"),
]


@pytest.mark.parametrize(("build", "path"), WRONG_TYPES)
def test_models_refuse_wrong_types_at_construction(build: Callable[[], object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert [p for p, _ in info.value.errors] == [path]


@pytest.mark.parametrize("note", [1.5, True, -1, float("nan"), {}])
def test_a_step_note_must_be_text(note: Any) -> None:
    case = submitted().evaluate(POLICY, at=AT, by=AGENT)
    steps: list[Callable[[], object]] = [
        lambda: case.close(at=AT, by=AGENT, note=note),
        lambda: case.approve(at=AT, by=AGENT, note=note),
        lambda: case.evaluate(POLICY, at=AT, by=AGENT, note=note),
        lambda: submitted(note=note),
    ]
    for step in steps:
        with pytest.raises(ValidationError) as info:
            step()
        assert [p for p, _ in info.value.errors] == ["note"]


def test_repair_records_are_complete() -> None:
    with pytest.raises(ValidationError) as info:
        RepairRecord(technician="", at=AT, work_done=" ")
    assert {p for p, _ in info.value.errors} == {"technician", "work_done"}
    with pytest.raises(ValidationError):
        ReplacedPart(part_number="PB-55", removed_serial="", installed_serial="PB-2")
    with pytest.raises(ValidationError):
        RepairRecord(technician="t", at=datetime(2024, 3, 1), work_done="w")


def test_events_describe_each_step() -> None:
    case = submitted(on_day(40))
    assert event_for_last_change(case) == WarrantyClaimSubmitted(
        claim_id=case.id,
        customer_id=case.customer_id,
        product_serial="SN-001",
        order_id="SO-202401-0007",
        complaint_id="CP-9",
        at=AT,
        by="agent-1",
    )
    case = case.evaluate(POLICY, at=AT, by=AGENT)
    evaluated = event_for_last_change(case)
    assert isinstance(evaluated, WarrantyClaimEvaluated)
    assert evaluated.reason_codes == ("within_warranty_period",)
    assert evaluated.policy_version == "1"
    case = case.override({E}, reason="second fault", at=AT, by=VP, access=ACCESS)
    assert isinstance(event_for_last_change(case), WarrantyClaimOverridden)
    case = case.close(at=AT, by=AGENT)
    closed = event_for_last_change(case)
    assert isinstance(closed, WarrantyClaimClosed)
    assert closed.outcome is WarrantyClaimOutcome.WITHDRAWN


def test_event_names_are_registered_and_unique() -> None:
    names = [
        "WarrantyClaimSubmitted",
        "WarrantyClaimEvaluated",
        "WarrantyClaimApproved",
        "WarrantyClaimOverridden",
        "WarrantyClaimRepaired",
        "WarrantyClaimExchanged",
        "WarrantyClaimRefunded",
        "WarrantyClaimClosed",
    ]
    assert len(set(names)) == len(names)
    assert all(event_type(name).__name__ == name for name in names)
    assert event_type("WarrantyClaimRepaired") is WarrantyClaimRepaired


@given(repair_records())
def test_repair_records_round_trip_through_json(record: RepairRecord) -> None:
    assert from_json(RepairRecord, to_json(record)) == record


# -- fraud control -------------------------------------------------------------------------


def sp(point: str, region: str, period: str, units: int, claims: int) -> ServicePointPeriod:
    return ServicePointPeriod(
        service_point=point, region=region, period=period, units=units, claims=claims
    )


FRAUD_RECORDS = [
    sp("SP1", "north", "2024-01", 100, 2),
    sp("SP1", "north", "2024-02", 100, 2),
    sp("SP1", "north", "2024-03", 200, 12),
    sp("SP2", "north", "2024-02", 300, 6),
    sp("SP2", "north", "2024-03", 300, 6),
    sp("SP3", "north", "2024-03", 200, 4),
    sp("SP4", "south", "2024-03", 50, 1),
]
QUALITY = [
    QualityTrend(period="2024-02", defect_rate=Decimal("0.02")),
    QualityTrend(period="2024-03", defect_rate=Decimal("0.03")),
]


def test_claim_rate_outliers_worked_example() -> None:
    flags = claim_rate_outliers(FRAUD_RECORDS, QUALITY, POLICY)
    # SP1 in 2024-03: 12 / 200 = 0.06.
    # Peers SP2 + SP3: (6 + 4) / (300 + 200) = 0.02 -> 3x.
    # Own history: (2 + 2) / (100 + 100) = 0.02 -> 3x.
    # Production: 0.03 -> 2x. All beyond 1.5x.
    assert flags == (
        OutlierFlag(
            service_point="SP1",
            region="north",
            period="2024-03",
            comparison=Comparison.REGIONAL_PEERS,
            rate=Decimal("0.06"),
            reference=Decimal("0.02"),
            ratio=Decimal(3),
        ),
        OutlierFlag(
            service_point="SP1",
            region="north",
            period="2024-03",
            comparison=Comparison.OWN_HISTORY,
            rate=Decimal("0.06"),
            reference=Decimal("0.02"),
            ratio=Decimal(3),
        ),
        OutlierFlag(
            service_point="SP1",
            region="north",
            period="2024-03",
            comparison=Comparison.PRODUCTION_QUALITY,
            rate=Decimal("0.06"),
            reference=Decimal("0.03"),
            ratio=Decimal(2),
        ),
    )


def test_claim_rate_threshold_is_a_policy_value() -> None:
    lenient = WarrantyPolicy(outlier_ratio=Decimal("2.5"))
    flags = claim_rate_outliers(FRAUD_RECORDS, QUALITY, lenient)
    assert [(f.service_point, f.comparison) for f in flags] == [
        ("SP1", Comparison.REGIONAL_PEERS),
        ("SP1", Comparison.OWN_HISTORY),
    ]
    assert (
        claim_rate_outliers(FRAUD_RECORDS, QUALITY, WarrantyPolicy(outlier_ratio=Decimal(3))) == ()
    )


def test_claim_rate_outliers_for_an_earlier_period() -> None:
    # 2024-02: SP1 2 / 100 = 0.02, peer SP2 6 / 300 = 0.02; SP1 history 2 / 100 = 0.02.
    assert claim_rate_outliers(FRAUD_RECORDS, QUALITY, POLICY, period="2024-02") == ()
    spike = [*FRAUD_RECORDS, sp("SP2", "north", "2024-02", 0, 3)]
    flags = claim_rate_outliers(spike, QUALITY, POLICY, period="2024-02")
    # SP2: 9 / 300 = 0.03 vs production 0.02 -> 1.5x, not beyond; vs SP1 0.02 -> 1.5x too.
    assert flags == ()


def test_claim_rate_outliers_ignore_small_volumes() -> None:
    records = [sp("A", "east", "2024-03", 5, 3), sp("B", "east", "2024-03", 500, 5)]
    assert [f.service_point for f in claim_rate_outliers(records, [], POLICY)] == ["A"]
    strict = WarrantyPolicy(outlier_min_units=10)
    assert claim_rate_outliers(records, [], strict) == ()


def test_zero_reference_flags_any_claims_without_a_ratio() -> None:
    records = [sp("A", "east", "2024-03", 100, 1), sp("B", "east", "2024-03", 100, 0)]
    (flag,) = claim_rate_outliers(records, [], POLICY)
    assert (flag.service_point, flag.comparison, flag.ratio) == (
        "A",
        Comparison.REGIONAL_PEERS,
        None,
    )
    assert flag.reference == 0


def test_point_without_records_in_the_period_is_not_rated() -> None:
    records = [sp("OLD", "east", "2024-01", 100, 50), sp("NEW", "east", "2024-03", 100, 1)]
    assert [f.service_point for f in claim_rate_outliers(records, [], POLICY)] == []


def test_claim_rate_outliers_reads_each_stream_once() -> None:
    def once(items: list[Any]) -> Iterator[Any]:
        yield from items

    assert claim_rate_outliers(once(FRAUD_RECORDS), once(QUALITY), POLICY) == (
        claim_rate_outliers(FRAUD_RECORDS, QUALITY, POLICY)
    )


def test_claim_rate_outliers_memory_does_not_grow_with_records() -> None:
    def stream(n: int) -> Iterator[ServicePointPeriod]:
        for i in range(n):
            yield sp(f"SP{i % 3}", "north", f"2023-{i % 12 + 1:02d}", 100, i % 7)

    tracemalloc.start()
    try:
        claim_rate_outliers(stream(30_000), [], POLICY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000


def test_service_point_in_two_regions_in_one_period_is_rejected() -> None:
    records = [sp("A", "east", "2024-03", 10, 1), sp("A", "west", "2024-03", 10, 1)]
    with pytest.raises(ValidationError, match="two regions"):
        claim_rate_outliers(records, [], POLICY)
    moved = [sp("A", "east", "2024-02", 10, 1), sp("A", "west", "2024-03", 10, 1)]
    assert claim_rate_outliers(moved, [], POLICY) == ()


@given(service_point_periods())
def test_service_point_periods_round_trip_through_json(record: ServicePointPeriod) -> None:
    assert from_json(ServicePointPeriod, to_json(record)) == record


def test_fraud_inputs_are_validated() -> None:
    with pytest.raises(ValidationError):
        sp("A", "east", "2024-03", -1, 0)
    with pytest.raises(ValidationError):
        QualityTrend(period="2024-03", defect_rate=Decimal(-1))
    with pytest.raises(ValidationError) as info:
        claim_rate_outliers([FRAUD_RECORDS[0], "junk"], [], POLICY)  # type: ignore[list-item]
    assert [p for p, _ in info.value.errors] == ["records.1"]


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        pytest.param((None, [], POLICY), "records", id="no_records"),
        pytest.param(([], None, POLICY), "quality", id="no_quality"),
        pytest.param(("2024-03", [], POLICY), "records", id="text_records"),
        pytest.param(([], [], None), "policy", id="no_policy"),
    ],
)
def test_claim_rate_outliers_refuse_what_is_not_a_stream(arguments: Any, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        claim_rate_outliers(*arguments)
    assert [p for p, _ in info.value.errors] == [path]


@given(claim_rate_records(), st.lists(quality_trends(), max_size=3))
def test_outlier_flags_do_not_depend_on_record_order(
    records: list[ServicePointPeriod], quality: list[QualityTrend]
) -> None:
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    flags = claim_rate_outliers(records, quality, POLICY)
    assert claim_rate_outliers(shuffled, quality, POLICY) == flags
    for flag in flags:
        assert flag.ratio is None or flag.ratio > POLICY.outlier_ratio
        assert flag.ratio is not None or flag.reference == 0


# -- spare parts ---------------------------------------------------------------------------


def test_assembled_part_costs_twice_the_dealer_price() -> None:
    board = SparePart(
        part_number="ASM-55",
        name="main board assembly",
        kind=PartKind.ASSEMBLED,
        dealer_price=Money.of("150.00", "CNY"),
    )
    # the board alone assembles the product: its service BOM has one line
    price = Money.of("150.00", "CNY")
    bom = ServiceBom(product="P-1", dealer_price=price, lines=[BomLine(part=board)])
    quote = quote_part(board, 3, WarrantyPolicy(freight=Decimal("20.00")), bom=bom)
    # 150.00 x 2 = 300.00 per unit; x 3 = 900.00; tax 13 % = 117.00; freight 20.00.
    assert quote.unit_price == Money.of("300.00", "CNY")
    assert quote.list_price == Money.of("900.00", "CNY")
    assert quote.tax == Money.of("117.00", "CNY")
    assert quote.freight == Money.of("20.00", "CNY")
    assert quote.total == Money.of("1037.00", "CNY")
    assert [(line.label, str(line.amount)) for line in quote.lines] == [
        ("ASM-55 x 3 at 300.00 CNY (ex-tax)", "900.00 CNY"),
        ("tax 13%", "117.00 CNY"),
        ("freight", "20.00 CNY"),
        ("total", "1037.00 CNY"),
    ]


def assembled(number: str, cost: str | None = None, price: str = "150.00") -> SparePart:
    return SparePart(
        part_number=number,
        name=f"part {number}",
        kind=PartKind.ASSEMBLED,
        dealer_price=Money.of(price, "CNY"),
        cost=None if cost is None else Money.of(cost, "CNY"),
    )


def test_parts_that_assemble_one_product_cost_twice_its_dealer_price_together() -> None:
    # 按服务配件组装成一台成品,其价格应该为成品经销商结算价的2倍: the board (cost 100) and
    # the cable (cost 50) of a product sold to dealers at 150 share 2 x 150 = 300 by cost:
    # 200 and 100, not 300 each.
    board, cable = assembled("ASM-1", "100.00"), assembled("ASM-2", "50.00")
    screws = SparePart(
        part_number="STD-1", name="screws", kind=PartKind.STANDARD, cost=Money.of("2.00", "CNY")
    )
    bom = ServiceBom(
        product="P-1",
        dealer_price=Money.of("150.00", "CNY"),
        lines=[BomLine(part=board), BomLine(part=cable), BomLine(part=screws, quantity=8)],
    )
    prices = bom.assembled_prices(POLICY)
    assert prices == {"ASM-1": Money.of("200.00", "CNY"), "ASM-2": Money.of("100.00", "CNY")}
    assert quote_part(board, 1, POLICY, bom=bom).unit_price == Money.of("200.00", "CNY")
    assert quote_part(cable, 2, POLICY, bom=bom).list_price == Money.of("200.00", "CNY")
    # the standard part keeps its own price: cost plus the (zero) margin
    assert quote_part(screws, 8, POLICY, bom=bom).list_price == Money.of("16.00", "CNY")


def test_bom_shares_add_up_to_twice_the_dealer_price_to_the_minor_unit() -> None:
    # costs 60, 30 and 2 x 10: 300.00 split 60 : 30 : 20 by largest remainder is
    # 163.64 + 81.82 + 2 x 27.27 = 300.00
    parts = [assembled("A", "60.00"), assembled("B", "30.00"), assembled("C", "10.00")]
    lines = [BomLine(part=parts[0]), BomLine(part=parts[1]), BomLine(part=parts[2], quantity=2)]
    bom = ServiceBom(product="P", dealer_price=Money.of("150.00", "CNY"), lines=lines)
    prices = bom.assembled_prices(POLICY)
    assert prices == {
        "A": Money.of("163.64", "CNY"),
        "B": Money.of("81.82", "CNY"),
        "C": Money.of("27.27", "CNY"),
    }
    total = Money.total((prices[line.part.part_number] * line.quantity for line in lines), "CNY")
    assert total == Money.of("300.00", "CNY")
    # without a cost on every part, each unit takes an equal share: 300 / 3 units
    even = ServiceBom(
        product="P",
        dealer_price=Money.of("150.00", "CNY"),
        lines=[BomLine(part=assembled("A")), BomLine(part=assembled("B"), quantity=2)],
    )
    assert even.assembled_prices(POLICY) == {
        "A": Money.of("100.00", "CNY"),
        "B": Money.of("100.00", "CNY"),
    }


def test_an_assembled_part_is_quoted_with_its_product_bom_only() -> None:
    board = assembled("ASM-1", "100.00")
    with pytest.raises(ValidationError) as missing:
        quote_part(board, 1, POLICY)
    assert [path for path, _ in missing.value.errors] == ["bom"]
    other = ServiceBom(
        product="P-2", dealer_price=Money.of("150.00", "CNY"), lines=[BomLine(part=assembled("X"))]
    )
    with pytest.raises(ValidationError) as absent:
        quote_part(board, 1, POLICY, bom=other)
    assert [path for path, _ in absent.value.errors] == ["part"]
    with pytest.raises(ValidationError) as mismatch:
        ServiceBom(product="P", dealer_price=Money.of("99.00", "CNY"), lines=[BomLine(part=board)])
    assert [path for path, _ in mismatch.value.errors] == ["lines.0.part.dealer_price"]
    with pytest.raises(ValidationError) as twice:
        ServiceBom(
            product="P",
            dealer_price=Money.of("150.00", "CNY"),
            lines=[BomLine(part=board), BomLine(part=board)],
        )
    assert [path for path, _ in twice.value.errors] == ["lines.1.part"]
    with pytest.raises(ValidationError):
        ServiceBom(product="P", dealer_price=Money.of("150.00", "CNY"), lines=[])
    with pytest.raises(ValidationError):
        BomLine(part=board, quantity=0)


def test_standard_part_carries_the_minimal_margin_rounded_half_up() -> None:
    screw = SparePart(
        part_number="STD-M4",
        name="M4 screw set",
        kind=PartKind.STANDARD,
        cost=Money.of("12.50", "CNY"),
    )
    quote = quote_part(screw, 4, WarrantyPolicy(standard_part_margin=Decimal("0.05")))
    # 12.50 x 1.05 = 13.125 -> 13.13; x 4 = 52.52; tax 52.52 x 0.13 = 6.8276 -> 6.83.
    assert quote.unit_price == Money.of("13.13", "CNY")
    assert quote.list_price == Money.of("52.52", "CNY")
    assert quote.tax == Money.of("6.83", "CNY")
    assert quote.total == Money.of("59.35", "CNY")


def test_wear_part_is_sold_at_cost_by_default() -> None:
    belt = SparePart(
        part_number="W-BELT", name="drive belt", kind=PartKind.WEAR, cost=Money.of("8.00", "CNY")
    )
    quote = quote_part(belt, 10, POLICY)
    # 8.00 x 10 = 80.00; tax 10.40; free freight.
    assert (quote.list_price, quote.tax, quote.freight, quote.total) == (
        Money.of("80.00", "CNY"),
        Money.of("10.40", "CNY"),
        Money.of("0", "CNY"),
        Money.of("90.40", "CNY"),
    )


def test_ip_protected_core_part_is_not_sold() -> None:
    chip = SparePart(part_number="CORE-1", name="controller firmware chip", kind=PartKind.CORE)
    with pytest.raises(RuleViolation) as info:
        quote_part(chip, 1, POLICY)
    assert info.value.code == "part_not_for_sale"
    assert info.value.details["part_number"] == "CORE-1"


def test_quote_rejects_bad_quantity_and_currency() -> None:
    belt = SparePart(
        part_number="W-BELT", name="drive belt", kind=PartKind.WEAR, cost=Money.of("8.00", "USD")
    )
    with pytest.raises(ValidationError) as info:
        quote_part(belt, 0, POLICY)
    assert [p for p, _ in info.value.errors] == ["quantity"]
    with pytest.raises(CurrencyMismatch):
        quote_part(belt, 1, POLICY)
    with pytest.raises(ValidationError) as info:
        quote_part(belt, 1, None)  # type: ignore[arg-type]
    assert [p for p, _ in info.value.errors] == ["policy"]


def test_spare_part_needs_the_price_its_kind_uses() -> None:
    with pytest.raises(ValidationError) as info:
        SparePart(part_number="A", name="assembly", kind=PartKind.ASSEMBLED)
    assert [p for p, _ in info.value.errors] == ["dealer_price"]
    with pytest.raises(ValidationError):
        SparePart(part_number="S", name="screw", kind="standard")


@given(spare_parts(kinds=st.sampled_from([PartKind.ASSEMBLED, PartKind.STANDARD, PartKind.WEAR])))
def test_quote_total_is_list_price_plus_tax_plus_freight(part: SparePart) -> None:
    bom = None
    if part.kind is PartKind.ASSEMBLED and part.dealer_price is not None:
        bom = ServiceBom(product="P", dealer_price=part.dealer_price, lines=[BomLine(part=part)])
    quote = quote_part(part, 2, WarrantyPolicy(freight=Decimal("15.00")), bom=bom)
    assert quote.total == quote.list_price + quote.tax + quote.freight
    assert quote.list_price == quote.unit_price * 2
    assert from_json(PartQuote, to_json(quote)) == quote
