"""Write docs/policy.md: every policy value with its default and source, from the Policy tree.

Run ``python tools/policy_reference.py`` after changing a policy section;
``tests/test_policy_reference.py`` fails while the page is out of date. Every value states
where its default comes from (:data:`VALUE_SOURCES`): the source documents with the phrase
(docs/domain.md), the national three-guarantees regulation with the article, or a project
default where neither gives a number.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import attrs
import orjson

from csdomain.policy import Policy
from csdomain.serialization import unstructure


#: The part of docs/domain.md each section follows.
SOURCES = {
    "currency": "a project default (the documents' teams work in China: CNY)",
    "calendar": "domain.md 3.3 (service hours)",
    "access": "domain.md 1 privacy, 3.2 step 4 approval, 3.6 authority",
    "customers": "domain.md 1",
    "orders": "domain.md 2",
    "complaints": "domain.md 3",
    "warranty": "domain.md 4 and 10 (the national three-guarantees regulation)",
    "fieldservice": "domain.md 3.3 (the service-call promise), 8 (field service and repair)",
    "satisfaction": "domain.md 5",
    "contact_centre": "domain.md 3.3",
    "staff_pay": "domain.md 6",
    "notifications": "domain.md 7",
    "care": "domain.md 3.5",
    "limits": "project defaults (reliability: hostile input is refused, not stored)",
}

REGULATION = "部分商品修理更换退货责任规定"


def documents(section: str, phrase: str) -> str:
    """The source documents, with the phrase the value comes from (docs/domain.md)."""
    return f"documents (domain.md {section}): {phrase}"


def regulation(article: str) -> str:
    """The national three-guarantees regulation and its article (docs/domain.md 10)."""
    return f"regulation: {REGULATION}, {article} (domain.md 10)"


def project(why: str = "") -> str:
    """A choice of this project, where the documents give no number."""
    return f"project default ({why})" if why else "project default"


#: The service-call promise as the handbook words it (docs/domain.md 3.3 and 8).
_PROMISE = (
    "售后服务响应时间 (3.3): respond within 30 minutes, on site within 24 hours, "
    "fault cleared within 24 hours of starting"
)

#: The source of every policy value: the documents (with the phrase), the regulation
#: (with the article) or a project default. A section without entries here (a section
#: another area owns) shows its SOURCES entry for each value.
VALUE_SOURCES: dict[str, str] = {
    "currency": project("the teams the documents describe work in China: yuan (CNY)"),
    # calendar
    "calendar.tz": project("the team works in China"),
    "calendar.hours": project("Monday to Friday 09:00-18:00; the documents give no hours"),
    "calendar.holidays": project("none until you add your own"),
    "calendar.extra_workdays": project("none until you add your own 调休 days"),
    "calendar.extra_workday_hours": project("the hours of the first weekday that opens"),
    # access
    "access.role_permissions": project(
        "roles after the documents' organisation: the five-level ladder, the sales VP; "
        "未经许可不得访问客户文件 (1), 主管领导批示 (3.2 step 4)"
    ),
    "access.approval_limits": documents(
        "3.6",
        "严禁给予客户任何实质性的承诺 without the sales VP or above: they approve without limit",
    ),
    "access.top_role": documents("3.6", "written authorisation of the sales VP (营销副总)"),
    "access.senior_roles": documents("3.6", "the sales VP or above: the general manager"),
    "access.currency": project("limits given as bare numbers are in yuan, like the prices"),
    # customers
    "customers.code_pattern": documents(
        "1", "city - contact time (YYYYMM, 月份补零) - name - 3-digit serial"
    ),
    "customers.code_tz": project("the month is read where the team works"),
    "customers.phone_country_code": project("China, +86"),
    "customers.first_contact_within": documents(
        "9", "确定客户所属的客户经理: a newly assigned customer is contacted within a week"
    ),
    # orders
    "orders.currency": project("the teams the documents describe work in China: yuan (CNY)"),
    "orders.require_payment_before_shipment": documents("2", "先付款,后发货"),
    "orders.credit_exempt_classes": project("nobody ships before paying until you say so"),
    "orders.payment_reminder_after": project(
        "a reminder three days after confirmation; the documents give no interval"
    ),
    "orders.payment_reminder_every": project("at most one reminder a week per order"),
    "orders.delivery_days_min": documents("2", "接到传真后……3-4日即可收到"),
    "orders.delivery_days_max": documents("2", "接到传真后……3-4日即可收到"),
    "orders.usual_delivery_days_min": documents("2", "一般内2-3日即可收到"),
    "orders.usual_delivery_days_max": documents("2", "一般内2-3日即可收到"),
    "orders.order_number_pattern": project(
        "readable numbers restarting monthly, as 每月重新编号 (1)"
    ),
    "orders.return_number_pattern": project("readable numbers restarting monthly"),
    "orders.return_note_pattern": project("readable numbers restarting monthly"),
    "orders.stock_count_pattern": project("readable numbers restarting monthly"),
    "orders.stock_take_interval": documents("9", "每周仓管员进行仓库盘点 (a count every week)"),
    "orders.number_tz": project("the month is read where the team works"),
    "orders.damage_needs_approval": documents("9", "审批残损申请 (damage applications approved)"),
    "orders.damage_application_pattern": project("readable numbers restarting monthly"),
    "orders.damaged_bags_limit": documents("2", "破损超过30袋及以上 (in a 60-tonne wagon)"),
    "orders.reference_wagon_tonnes": documents("2", "30 damaged bags in a 60-tonne wagon"),
    "orders.content_tolerance": documents("2", "content deviating more than ±0.5 %"),
    "orders.shipping_details_required": documents(
        "2", "remittance proof with invoice title, consignee, phone, postcode, full address"
    ),
    "orders.express_max_quantity": project("express for small orders; no number given"),
    "orders.express_max_weight_kg": project("express for light orders; no number given"),
    "orders.bulk_shipping_mode": documents("2", "by quantity: express, or logistics/rail"),
    "orders.urgent_goes_express": documents("2", "shipping mode by quantity and urgency"),
    "orders.escalation_contacts": documents("2", "goes to the sales VP and quality department"),
    "orders.delay_escalation_contacts": documents(
        "9", "交货延期太长……营销副总 (a delay too long goes to the marketing VP)"
    ),
    "orders.problem_default_route": project("customer service records and handles it"),
    "orders.delivery_problem_pattern": project("readable numbers restarting monthly"),
    "orders.make_up_urgent": project("the customer waits for the missing goods"),
    # complaints
    "complaints.special": project(
        "respond in 30 minutes as 售后服务响应时间 (3.3); resolve within 24 hours"
    ),
    "complaints.urgent": project(
        "the service-call promise of 3.3: respond in 30 minutes, on site within 24 hours, "
        "cleared within 24 hours of starting, so resolved within 48 hours"
    ),
    "complaints.ordinary": project("answered in 2 business hours, resolved in 40 (a working week)"),
    "complaints.ladder": documents(
        "3.4",
        "五级追访制: specialist, department manager, "
        "customer-service manager, call team, general manager",
    ),
    "complaints.special_start_level": project("large issues go to the managers (3.4)"),
    "complaints.urgent_start_level": project("the specialist first"),
    "complaints.escalation_interval": project(
        "one rung a day, after the call team's daily follow-up (3.4)"
    ),
    "complaints.number_pattern": project("readable numbers restarting monthly"),
    "complaints.follow_up_classes": documents(
        "3.5", "100 % of member customers (会员客户) are visited; VIPs as members (project default)"
    ),
    "complaints.manager_approves_every_remedy": documents("3.2 step 4", "主管领导批示"),
    "complaints.escalate_on_reopen": documents(
        "3.4", "escalation when the customer is still unhappy"
    ),
    "complaints.reopen_on_dissatisfied": documents("3.2", "a closed loop: 处理后有回访"),
    "complaints.follow_up_within": documents("3.5", "visit within 3 days"),
    "complaints.follow_up_after": documents("3.5", "the next-day call"),
    "complaints.penalty_required_at_fault": documents(
        "3.2 step 5", "responsible staff may be penalised: may, so off until you require it"
    ),
    "complaints.visit_answer_required": project(
        "the script's answer is kept when given; a visit without it stays valid"
    ),
    "complaints.departments": project(
        "after 3.1: product quality → the production owner, service → service staff"
    ),
    # warranty
    "warranty.return_days": regulation("art. 9: 7日内 return, exchange or repair"),
    "warranty.exchange_days": regulation("art. 10: 15日内 exchange or repair"),
    "warranty.warranty_days": regulation(
        "the validity period per product, one year for the whole unit of the listed goods"
    ),
    "warranty.max_failed_repairs": regulation("art. 11: 修理两次, 仍不能正常使用"),
    "warranty.parts_wait_exchange_days": regulation("art. 12: 超过90日未修好 for want of parts"),
    "warranty.repair_overrun_exchange_days": regulation(
        "art. 12: 因修理者自身原因使修理期超过30日"
    ),
    "warranty.repair_guarantee_days": regulation(
        "the repairer's duties: 保证修理后的产品能够正常使用30日以上"
    ),
    "warranty.category_overrides": project("none: every category has the general windows"),
    "warranty.rules": project("every built-in rule"),
    "warranty.version": project(),
    "warranty.claim_number_pattern": project("readable numbers restarting monthly"),
    "warranty.currency": project("the teams the documents describe work in China: yuan (CNY)"),
    "warranty.assembled_part_multiple": documents(
        "4", "按服务配件组装成一台成品,其价格应该为成品经销商结算价的2倍"
    ),
    "warranty.standard_part_margin": documents("4", "standard parts at minimal/zero margin"),
    "warranty.wear_part_margin": documents("4", "wear parts at minimal/zero margin"),
    "warranty.tax_rate": project(
        "13 %, China's standard VAT rate; the documents say only list price + tax + freight"
    ),
    "warranty.freight": project("none, as orders ship free by express (2)"),
    "warranty.outlier_ratio": project("the documents ask for the comparison, not a number (4)"),
    "warranty.outlier_min_units": project("the documents give no number"),
    # fieldservice: the service-call promise, job numbers, fees, planning
    "fieldservice.special": documents(
        "8", f"{_PROMISE}; the 24/7 clock for special calls is a project default"
    ),
    "fieldservice.urgent": documents(
        "8", f"{_PROMISE}; the 24/7 clock for urgent calls is a project default"
    ),
    "fieldservice.ordinary": documents(
        "8", f"{_PROMISE}; the business calendar for ordinary calls is a project default"
    ),
    "fieldservice.job_number_pattern": project(
        "SJ- numbers restarting monthly, as 工作号每月重新编号 (1)"
    ),
    "fieldservice.follow_up_separator": project(
        "a follow-up job keeps the original number with -1, -2 ..."
    ),
    "fieldservice.currency": project(
        "CNY, the currency of the orders; the handbook gives no prices"
    ),
    "fieldservice.fees": project(
        "the handbook names 服务收费标准 as a base data set (8) but gives no prices: "
        "call-out 50, labour 80 an hour, distance bands 0/30/60/100"
    ),
    "fieldservice.quote_approval_above": project(
        "a quote before work; the handbook gives no amount above which the customer approves"
    ),
    "fieldservice.default_daily_capacity": project(
        "six jobs a day; the handbook weighs 自己手中已接活的情况 (8) but gives no number"
    ),
    "fieldservice.visit_window": project("a visit is booked as a two-hour window"),
    "fieldservice.planning_days": project("suggestions look a week ahead"),
    "fieldservice.suggestion_limit": project("at most five technicians suggested"),
    "fieldservice.repeat_visit_days": project(
        "the handbook asks for a repeat-visit analysis (8) but gives no window: 30 days"
    ),
    "fieldservice.fault_guide": project(
        "empty: the handbook asks the questions, the products give the answers"
    ),
    "fieldservice.kind_skills": project("each kind of job needs the skill of its own name"),
    # fieldservice: the service network (contracts, assessments, plans, statements)
    "fieldservice.assessment_criteria": project(
        "the handbook asks for periodic assessment (定期给每个外包售后网点进行跟踪服务) but "
        "names no criteria: the promise kept, first-time fix, satisfaction, the forms, "
        "the parts; the points (100 in all) are ours"
    ),
    "fieldservice.assessment_grades": project("A from 90, B from 75, C from 60, D below"),
    "fieldservice.suspend_on_grades": project(
        "the lowest grade suspends an active point until it is reinstated"
    ),
    "fieldservice.maintenance_frequency": project(
        "quarterly, the less frequent of the two the plans offer (monthly or quarterly)"
    ),
    "fieldservice.installation_models": project(
        "none until you say which products need installation (送货上门安装)"
    ),
    "fieldservice.training_models": project(
        "none until you say which products need usage guidance (使用的指导服务)"
    ),
    "fieldservice.delivery_lookback_days": project(
        "a month of delivered orders per run; the jobs are opened once whatever the window"
    ),
    "fieldservice.point_fee_share": project(
        "a contracted point is paid the fee schedule's call-out, distance and labour in "
        "full (单单结); the handbook gives no share"
    ),
    # fieldservice: spare parts for service (配件管理)
    "fieldservice.part_settlement_discounts": project(
        "the handbook names two price lists (dealer settlement and market guide) but no "
        "discount: agents 25 %, dealers and service points 20 % off the guide price"
    ),
    "fieldservice.young_part_stock_months": documents("8", "配件账龄周期80%控制在3个月内"),
    "fieldservice.young_part_stock_target": documents("8", "配件账龄周期80%控制在3个月内"),
    "fieldservice.part_reserve_days": project(
        "the last 90 days of parts used, the same window as the stock's age"
    ),
    "fieldservice.part_replacement_ratio": project(
        "one part planned in reserve for each part used (planned replacements 1:1); "
        "the documents name no ratio"
    ),
    "fieldservice.part_transfer_pattern": project("调拨单 numbers restart every month"),
    # satisfaction
    "satisfaction.satisfied_threshold": documents("5", "调查项目合计平均分数85分以上为顾客满意"),
    "satisfaction.score_method": documents(
        "5", "the average item score out of 100: rating / scale x 100"
    ),
    "satisfaction.csat_top_boxes": project(
        "the five-point scale's very satisfied and satisfied (5)"
    ),
    "satisfaction.nps_promoter_min": project("the usual NPS bands; the documents do not use NPS"),
    "satisfaction.nps_detractor_max": project("the usual NPS bands; the documents do not use NPS"),
    "satisfaction.product_weight": documents("5", "w = 0.8 when the industry norm is unknown"),
    "satisfaction.coverage_minimum": documents("5", "coverage x response rate must reach 75 %"),
    "satisfaction.confidence_level": project("95 % intervals"),
    "satisfaction.survey_months": documents("5", "surveys run in Q4 and in May"),
    "satisfaction.key_account_surveys_per_year": documents(
        "5", "key accounts are visited twice a year"
    ),
    "satisfaction.sensitivity_step": documents("5", "each +10 points in a category"),
    "satisfaction.published_sensitivities": documents("5", "4.6 %, 4.2 %, 3.1 %, 0.6 %"),
    "satisfaction.contact_centre_drivers": documents(
        "5", "contact-centre drivers in decreasing order"
    ),
    "satisfaction.survey_after_complaint": documents("3.2", "处理后有回访 (a closed loop)"),
    "satisfaction.survey_after_order": project("off: the documents survey periodically"),
    "satisfaction.post_service_survey_id": project(),
    "satisfaction.campaign_number_pattern": project("readable numbers restarting monthly"),
    "satisfaction.monitor_number_pattern": project("readable numbers restarting monthly"),
    "satisfaction.survey_delay": project("one day, as the next-day call (3.5)"),
    "satisfaction.survey_cooldown": project("none"),
    "satisfaction.amplification_factor": project(
        "none: the documents give the formula (x an amplification factor) but no figure (5)"
    ),
    # contact centre
    "contact_centre.service_level_threshold": documents("3.3", "80 % answered within 20 s"),
    "contact_centre.service_level_target": documents("3.3", "80 % answered within 20 s"),
    "contact_centre.handling_time_min": documents("3.3", "average handling time 210-330 s"),
    "contact_centre.handling_time_max": documents("3.3", "average handling time 210-330 s"),
    "contact_centre.queue_time_target": documents("3.3", "average queue time 20 s"),
    "contact_centre.first_contact_resolution_target": documents(
        "3.3", "first-contact resolution 85 %"
    ),
    "contact_centre.inbound_connection_target": documents("3.3", "connection rate 80 % inbound"),
    "contact_centre.outbound_connection_target": documents("3.3", "connection rate 60 % outbound"),
    "contact_centre.outbound_project_share_target": documents("3.3", "outbound project share 90 %"),
    "contact_centre.rings_min": documents("3.3", "average rings 2-3"),
    "contact_centre.rings_max": documents("3.3", "average rings 2-3"),
    # staff pay
    "staff_pay.base_share": project("0.65, inside the documents' 0.5-0.8 (6)"),
    "staff_pay.base_share_min": documents(
        "6", "base = last month's average x base share (0.5-0.8)"
    ),
    "staff_pay.base_share_max": documents(
        "6", "base = last month's average x base share (0.5-0.8)"
    ),
    "staff_pay.kpi_min": documents("6", "KPI value 0.5-5"),
    "staff_pay.kpi_max": documents("6", "KPI value 0.5-5"),
    "staff_pay.standard_kpi": documents("6", "a KPI value of 1 earns the standard performance pay"),
    "staff_pay.scheme_alarm_share": documents(
        "6", "if 80 % of staff score below 1, the scheme is wrong"
    ),
    # notifications
    "notifications.max_attempts": project("delivery mechanics: at-least-once with retries"),
    "notifications.backoff_base": project("delivery mechanics"),
    "notifications.backoff_factor": project("delivery mechanics"),
    "notifications.backoff_cap": project("delivery mechanics"),
    "notifications.backoff_jitter": project("delivery mechanics"),
    "notifications.lease": project("delivery mechanics"),
    "notifications.default_rest_hours": project(
        "21:00-08:00; the documents say never call in the customer's rest time (3.5, 7), "
        "not when it is"
    ),
    "notifications.default_channel": documents("7", "SMS delivery reminders"),
    "notifications.channels": project("delivery mechanics"),
    "notifications.batch_size": project("delivery mechanics"),
    "notifications.max_error_length": project("delivery mechanics"),
    "notifications.channel_limits": project("delivery mechanics"),
    "notifications.default_channel_limits": project("delivery mechanics"),
    "notifications.max_retry_after": project("delivery mechanics"),
    "notifications.max_deferrals": project("delivery mechanics"),
    "notifications.announcement_classes": documents("7", "announcements to dealers"),
    "notifications.announcement_number_pattern": project("readable numbers restarting monthly"),
    "notifications.language": project(
        "zh-CN: the documents' service teams and customers are Chinese; a customer's own "
        "language wins"
    ),
    "notifications.time_zone": project("China Standard Time, where the documents' teams work"),
    "notifications.catalog_dirs": project("none: the built-in zh-CN catalog; add a language"),
    # care
    "care.plan": documents(
        "3.5",
        "next-day call, one month after hand-over, one-year inspection, a check a month "
        "before New Year, birthday greetings, holiday greetings (节日问候, 9), maintenance "
        "reminders; the 10:00 send time, greeting on a holiday's first day and the texts "
        "are project defaults",
    ),
    "care.horizon": project("a month of care messages at a time"),
    # limits
    **{
        f"limits.{name}": project("reliability: hostile input is refused, not stored")
        for name in (
            "max_short_text",
            "max_long_text",
            "max_key",
            "max_items",
            "max_quantity",
            "max_depth",
            "earliest_year",
            "latest_year",
        )
    },
}


def value_names(policy: Policy | None = None) -> list[str]:
    """Every policy value as ``section.field`` (``currency`` for the top-level value)."""
    policy = Policy() if policy is None else policy
    names: list[str] = []
    for field in attrs.fields(Policy):
        value = getattr(policy, field.name)
        if attrs.has(type(value)):
            names.extend(
                f"{field.name}.{sub.name}"
                for sub in attrs.fields(type(value))
                if sub.init and not sub.name.startswith("_")
            )
        else:
            names.append(field.name)
    return names


def source_of(name: str) -> str:
    """Where the default of ``section.field`` comes from (the section's source if unlisted)."""
    found = VALUE_SOURCES.get(name)
    if found is not None:
        return found
    return SOURCES.get(name.split(".", maxsplit=1)[0], "-")


def unsourced(sections: list[str] | None = None) -> list[str]:
    """The values of ``sections`` (all when None) without a source of their own."""
    return [
        name
        for name in value_names()
        if (sections is None or name.split(".")[0] in sections) and name not in VALUE_SOURCES
    ]


def _cell(value: Any) -> str:
    text = orjson.dumps(unstructure(value)).decode()
    if len(text) > 120:
        text = text[:117] + "..."
    return "`" + text.replace("|", "\\|") + "`"


def render() -> str:
    """The Markdown text of docs/policy.md."""
    policy = Policy()
    lines = [
        "# Policy reference",
        "",
        "Every number is a policy value, never a constant. `Policy()` is the default tree;",
        "override a section with `attrs.evolve`. Each value states where its default comes",
        "from: the source documents, with the phrase (the [domain page](domain.md) gives",
        "every rule), the national three-guarantees regulation 部分商品修理更换退货责任规定,",
        "with the article, or a project default where neither gives a number.",
        "This page is generated by `tools/policy_reference.py` from the code.",
        "",
        "```python",
        "import attrs",
        "from csdomain.policy import Policy",
        "from csdomain.serialization import from_json, to_json",
        "",
        "policy = Policy()",
        "slower = attrs.evolve(policy, orders=attrs.evolve(policy.orders, delivery_days_max=5))",
        "assert slower.orders.delivery_days_max == 5",
        "assert from_json(Policy, to_json(slower)) == slower",
        "```",
        "",
    ]
    for field in attrs.fields(Policy):
        value = getattr(policy, field.name)
        lines.append(f"## `{field.name}`")
        lines.append("")
        if attrs.has(type(value)):
            lines.append(f"Source: {SOURCES.get(field.name, '-')}.")
            lines.append("")
            doc = inspect.getdoc(type(value)) or ""
            if doc:
                lines.extend([doc, ""])
            lines.append("| value | default | source |")
            lines.append("|---|---|---|")
            for sub in attrs.fields(type(value)):
                if sub.name.startswith("_") or not sub.init:
                    continue
                name = f"{field.name}.{sub.name}"
                cell = _cell(getattr(value, sub.name))
                lines.append(f"| `{name}` | {cell} | {source_of(name).replace('|', '/')} |")
        else:
            lines.append(f"Default: {_cell(value)}. Source: {source_of(field.name)}.")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    """Write or check the page (``--check`` exits 1 when it is out of date)."""
    path = Path(__file__).resolve().parent.parent / "docs" / "policy.md"
    text = render()
    if "--check" in sys.argv:
        return 0 if path.read_text(encoding="utf-8") == text else 1
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
