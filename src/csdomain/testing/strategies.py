"""Hypothesis strategies for every public csdomain model.

The only public API is the strategy functions listed in ``__all__``. Each returns a
``SearchStrategy`` of valid objects (built through their own lifecycles, so statuses
always respect the transition tables); keyword-only knobs are themselves strategies.

csdomain registers them with :func:`hypothesis.strategies.register_type_strategy` through
the ``hypothesis`` entry point, so ``st.from_type(Order)`` or ``st.from_type(Money)`` work
in your tests without importing anything from here::

    from hypothesis import given, strategies as st
    from csdomain.orders import Order

    @given(st.from_type(Order))
    def test_orders_have_lines(order):
        assert order.lines
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from csdomain.testing.strategies_complaints import (
    complaint_calendars,
    complaint_policies,
    complaints,
    remedies,
    sla_policies,
    sla_targets,
)
from csdomain.testing.strategies_fieldservice import (
    cash_handovers,
    fieldservice_policies,
    maintenance_plans,
    part_movements,
    part_stocks,
    part_transfers,
    point_assessments,
    product_files,
    service_areas,
    service_orders,
    service_points,
    settlements,
    technicians,
    triage_results,
    visit_records,
)
from csdomain.testing.strategies_kernel import (
    actors,
    aware_datetimes,
    business_calendars,
    currencies,
    money,
    quiet_hours,
    register_kernel_strategies,
    utc_datetimes,
)
from csdomain.testing.strategies_notify import care_subjects, messages
from csdomain.testing.strategies_orders import (
    customer_handovers,
    customers,
    delivery_problems,
    interactions,
    order_lines,
    orders,
    return_requests,
    stocks,
)
from csdomain.testing.strategies_satisfaction import (
    contact_centre_policies,
    contact_records,
    satisfaction_monitors,
    satisfaction_policies,
    staff_pay_policies,
    staff_scores,
    survey_campaigns,
    survey_requests,
    survey_responses,
    surveys,
    surveys_with_responses,
)
from csdomain.testing.strategies_warranty import (
    covered_warranty_claims,
    quality_trends,
    repair_records,
    rule_guards,
    service_boms,
    service_point_periods,
    spare_parts,
    warranty_claim_cases,
    warranty_claims,
    warranty_decisions,
    warranty_policies,
)


__all__ = [
    "actors",
    "aware_datetimes",
    "business_calendars",
    "care_subjects",
    "cash_handovers",
    "complaint_calendars",
    "complaint_policies",
    "complaints",
    "contact_centre_policies",
    "contact_records",
    "covered_warranty_claims",
    "currencies",
    "customer_handovers",
    "customers",
    "delivery_problems",
    "fieldservice_policies",
    "interactions",
    "maintenance_plans",
    "messages",
    "money",
    "order_lines",
    "orders",
    "part_movements",
    "part_stocks",
    "part_transfers",
    "point_assessments",
    "product_files",
    "quality_trends",
    "quiet_hours",
    "remedies",
    "repair_records",
    "return_requests",
    "rule_guards",
    "satisfaction_monitors",
    "satisfaction_policies",
    "service_areas",
    "service_boms",
    "service_orders",
    "service_point_periods",
    "service_points",
    "settlements",
    "sla_policies",
    "sla_targets",
    "spare_parts",
    "staff_pay_policies",
    "staff_scores",
    "stocks",
    "survey_campaigns",
    "survey_requests",
    "survey_responses",
    "surveys",
    "surveys_with_responses",
    "technicians",
    "triage_results",
    "utc_datetimes",
    "visit_records",
    "warranty_claim_cases",
    "warranty_claims",
    "warranty_decisions",
    "warranty_policies",
]


def _model_strategies() -> list[tuple[type[Any], st.SearchStrategy[Any]]]:
    from csdomain import complaints as c  # noqa: PLC0415 - loaded when hypothesis asks
    from csdomain import customers as cu  # noqa: PLC0415
    from csdomain import fieldservice as fs  # noqa: PLC0415
    from csdomain import kpi, notify, returns, satisfaction, warranty  # noqa: PLC0415
    from csdomain import orders as o  # noqa: PLC0415
    from csdomain.fieldservice.cash import CashHandover  # noqa: PLC0415

    return [
        (c.Complaint, complaints()),
        (c.ComplaintPolicy, complaint_policies()),
        (c.Remedy, remedies()),
        (c.SlaTarget, sla_targets()),
        (c.SlaPolicy, sla_policies()),
        (cu.Customer, customers()),
        (o.Order, orders()),
        (o.OrderLine, order_lines()),
        (o.Stock, stocks()),
        (returns.ReturnRequest, return_requests()),
        (notify.Message, messages()),
        (satisfaction.Survey, surveys()),
        (satisfaction.SurveyResponse, survey_responses()),
        (satisfaction.SurveyCampaign, survey_campaigns()),
        (satisfaction.SatisfactionMonitor, satisfaction_monitors()),
        (satisfaction.SatisfactionPolicy, satisfaction_policies()),
        (satisfaction.SurveyRequested, survey_requests()),
        (kpi.ContactRecord, contact_records()),
        (kpi.ContactCentrePolicy, contact_centre_policies()),
        (kpi.StaffPayPolicy, staff_pay_policies()),
        (kpi.StaffScore, staff_scores()),
        (warranty.WarrantyClaim, warranty_claims()),
        (warranty.WarrantyPolicy, warranty_policies()),
        (warranty.WarrantyDecision, warranty_decisions()),
        (warranty.WarrantyClaimCase, warranty_claim_cases()),
        (warranty.RepairRecord, repair_records()),
        (warranty.ServicePointPeriod, service_point_periods()),
        (warranty.QualityTrend, quality_trends()),
        (warranty.SparePart, spare_parts()),
        (fs.FieldServicePolicy, fieldservice_policies()),
        (fs.ProductFile, product_files()),
        (fs.ServiceArea, service_areas()),
        (fs.ServiceOrder, service_orders()),
        (fs.ServicePoint, service_points()),
        (fs.Settlement, settlements()),
        (fs.Technician, technicians()),
        (fs.TriageResult, triage_results()),
        (fs.VisitRecord, visit_records()),
        (fs.PartStock, part_stocks()),
        (fs.PartTransfer, part_transfers()),
        (fs.PartMovement, part_movements()),
        (fs.MaintenancePlan, maintenance_plans()),
        (fs.PointAssessment, point_assessments()),
        (CashHandover, cash_handovers()),
        (cu.Interaction, interactions()),
        (cu.CustomerHandover, customer_handovers()),
        (o.DeliveryProblemCase, delivery_problems()),
        (warranty.RuleGuard, rule_guards()),
        (warranty.ServiceBom, service_boms()),
    ]


def _hypothesis_setup_hook() -> None:
    """Register csdomain's strategies with hypothesis (the ``hypothesis`` entry point)."""
    register_kernel_strategies()
    for cls, strategy in _model_strategies():
        st.register_type_strategy(cls, strategy)
