"""The operations report: its figures are the desk's, its pages are safe and complete."""
# ruff: noqa: RUF001 - full-width Chinese punctuation is what the zh-CN texts are made of

from __future__ import annotations

import argparse
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

import csdomain.report as csdomain_report
from csdomain import cli
from csdomain.auth import Actor
from csdomain.cli.report import add_report_command
from csdomain.clock import FixedClock
from csdomain.complaints import ComplaintCategory, ComplaintStatus, SlaKind, SlaOutcome
from csdomain.demo import build_demo
from csdomain.errors import PermissionDenied, ValidationError
from csdomain.i18n import Translator, translator
from csdomain.kinds import (
    COMPLAINTS,
    CONTACTS,
    MESSAGES,
    ORDERS,
    PRODUCT_FILES,
    RETURNS,
    SURVEY_RESPONSES,
    WARRANTY_CLAIMS,
)
from csdomain.kpi import ContactRecord
from csdomain.lifecycle import StatusChange
from csdomain.orders import OrderKind, OrderStatus
from csdomain.report import (
    CHARTED_TABLES,
    CHARTS,
    REPORT_ACTOR,
    TAMPERING_SIGNALS,
    ClaimRateData,
    DurationSummary,
    OperationsReport,
    gather_report,
    nps_interval,
    render_html,
    render_json,
    render_text,
)
from csdomain.report.cells import fmt_duration
from csdomain.report.i18n import label_of, report_language
from csdomain.report.i18n.texts import TEXTS as REPORT_TEXTS
from csdomain.report.i18n.texts import VALUES as REPORT_VALUES
from csdomain.report.model import parse_month
from csdomain.report.tables import Table, report_tables
from csdomain.satisfaction import Survey, SurveyItem, SurveyResponse
from csdomain.serialization import from_json, to_json
from csdomain.service import ServiceDesk
from csdomain.store import Kind, Store, open_store
from csdomain.warranty import QualityTrend, ServicePointPeriod


AS_OF = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
SEPTEMBER = (datetime(2026, 8, 31, 16, tzinfo=UTC), datetime(2026, 9, 30, 16, tzinfo=UTC))
CLERK = Actor("cs-test", {"specialist"})


def september_calls(count: int = 120) -> list[ContactRecord]:
    """A month of telephony log: the small demo records its calls before September."""
    start = datetime(2026, 9, 8, 1, tzinfo=UTC)
    calls = []
    for n in range(count):
        offered = start + timedelta(minutes=37 * n)
        outbound = n % 5 == 0
        unanswered = (not outbound and n % 17 == 3) or (outbound and n % 3 == 0)
        answered = None if unanswered else offered + timedelta(seconds=6 + n % 30)
        calls.append(
            ContactRecord(
                id=f"RPT-CR-{n:04d}",
                offered_at=offered,
                answered_at=answered,
                ended_at=offered + timedelta(seconds=260 + n % 90),
                direction="outbound" if outbound else "inbound",
                abandoned=not outbound and answered is None,
                resolved_on_first_contact=None if answered is None else n % 6 != 0,
                agent=f"agent-{n % 4}",
                rings=None if outbound or answered is None else 2 + n % 2,
            )
        )
    return calls


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("report") / "demo.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    try:
        build_demo(store)
        ServiceDesk(store).record_contacts(september_calls(), by=CLERK)
    finally:
        store.close()
    return url


@pytest.fixture(scope="module")
def store(demo_url: str) -> Iterator[Store]:
    opened = open_store(demo_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def desk(store: Store) -> ServiceDesk:
    return ServiceDesk(store, clock=FixedClock(AS_OF))


@pytest.fixture(scope="module")
def report(desk: ServiceDesk) -> OperationsReport:
    return gather_report(desk, by=REPORT_ACTOR)


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    """``csdomain`` with the report command (as the integrated CLI will have it)."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "report" not in commands.choices:
        add_report_command(commands)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    return cli.main(argv)


# -- the figures are the desk's ------------------------------------------------------------


def test_default_month_is_the_month_of_the_latest_order(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    latest = desk.run(lambda uow: uow.repo(ORDERS).find(order_by="-placed_at", limit=1))[0]
    assert latest.placed_at.strftime("%Y-%m") == report.month == "2026-09"
    assert (report.start, report.end) == SEPTEMBER
    assert report.as_of == AS_OF


def test_orders_awaiting_stock_are_the_daily_confirmation_list(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    assert report.awaiting_stock == tuple(desk.orders_awaiting_stock(by=REPORT_ACTOR))
    assert report.awaiting_stock


def test_orders_awaiting_payment_are_confirmed_or_produced_and_not_paid_in_full(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    def unpaid(uow: Any) -> set[str]:
        statuses = [OrderStatus.CONFIRMED, OrderStatus.PRODUCED]
        orders = uow.repo(ORDERS).scan(status__in=statuses)
        return {o.id for o in orders if not o.is_paid_in_full}

    assert {row.order_id for row in report.awaiting_payment} == desk.run(unpaid, readonly=True)
    assert report.awaiting_payment
    for row in report.awaiting_payment:
        assert row.due.amount > 0
        assert row.due <= row.total - row.paid
        if row.kind is OrderKind.STANDARD:
            assert row.waiting_for == "payment"


def test_returns_are_the_monthly_return_analysis(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    assert report.returns == tuple(desk.return_analysis("2026-09", by=REPORT_ACTOR))
    by_reason = report.returns_by_reason()
    assert sum(count for count, _, _ in by_reason.values()) == sum(
        row.returns for row in report.returns
    )


def test_complaint_table_is_the_desk_statistics_of_the_month(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    assert report.complaints == desk.complaint_statistics(*SEPTEMBER, by=REPORT_ACTOR)
    assert sum(report.complaints_by_category().values()) == report.complaints.total == 60


def test_sla_compliance_counts_the_same_misses_as_the_desk_breaches(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    def month_ids(uow: Any) -> set[str]:
        stream = uow.repo(COMPLAINTS).scan(
            received_at__ge=SEPTEMBER[0], received_at__lt=SEPTEMBER[1]
        )
        return {c.id for c in stream}

    ids = desk.run(month_ids, readonly=True)
    missed = [
        b
        for b in desk.breaches(by=REPORT_ACTOR, at=AS_OF, include_met=True)
        if b.complaint_id in ids
    ]
    for target in SlaKind:
        row = report.sla_for(target)
        assert row.missed == sum(1 for b in missed if b.target is target)
        assert row.overdue == sum(1 for b in missed if b.target is target and b.still_open)
        assert row.due + row.pending + row.not_applicable == len(ids)
    assert report.overdue == tuple(desk.breaches(by=REPORT_ACTOR, at=AS_OF))


def test_escalations_are_the_open_complaints_above_the_first_rung(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    def escalated(uow: Any) -> set[str]:
        return {c.id for c in uow.repo(COMPLAINTS).scan(escalation_level__gt=1) if c.is_open}

    assert {row.complaint_id for row in report.escalated} == desk.run(escalated, readonly=True)
    assert report.escalated
    levels = [row.level for row in report.escalated]
    assert levels == sorted(levels, reverse=True)
    assert all(row.level > 1 and row.reason is not None for row in report.escalated)


def test_missing_follow_ups_are_the_desk_list(report: OperationsReport, desk: ServiceDesk) -> None:
    expected = [c.id for c in desk.missing_follow_ups(by=REPORT_ACTOR, at=AS_OF)]
    assert [row.complaint_id for row in report.missing_follow_ups] == expected
    assert expected


def test_warranty_reasons_are_the_desk_counts_and_suspects_carry_tampering_codes(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    by_reason = desk.warranty_decisions_by_reason(
        by=REPORT_ACTOR, start=SEPTEMBER[0], end=SEPTEMBER[1]
    )
    assert report.warranty_reasons == by_reason
    tampered = sum(by_reason.get(code, 0) for code in TAMPERING_SIGNALS)
    assert len(report.suspect_claims) == tampered > 0
    cases = {c.id: c for c in desk.find_warranty_claims(by=Actor("t", {"technician"}))}
    for suspect in report.suspect_claims:
        decision = cases[suspect.claim_id].decision
        assert decision is not None
        assert set(suspect.signals) <= set(decision.reason_codes) | {"manual_override"}


def test_satisfaction_equals_the_survey_statistics_when_the_survey_ran_in_the_month(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    (figures,) = report.satisfaction
    assert figures.result == desk.survey_stats(figures.survey_id, by=REPORT_ACTOR)
    assert figures.nps_interval is not None
    assert figures.result.nps is not None
    assert figures.nps_interval.low < figures.result.nps < figures.nps_interval.high


def test_kpis_are_the_desk_report_of_the_calls_offered_in_the_month(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    assert report.kpis == desk.kpi_report(*SEPTEMBER, by=REPORT_ACTOR)
    assert report.kpis.records >= len(september_calls())


def test_another_month_counts_only_its_own_period(desk: ServiceDesk) -> None:
    august = gather_report(desk, by=REPORT_ACTOR, month="2026-08")
    assert august.complaints.total == 0
    assert not august.returns
    assert not august.satisfaction
    assert not august.warranty_reasons
    august_window = (datetime(2026, 7, 31, 16, tzinfo=UTC), SEPTEMBER[0])
    assert august.kpis == desk.kpi_report(*august_window, by=REPORT_ACTOR)
    assert august.awaiting_stock == tuple(desk.orders_awaiting_stock(by=REPORT_ACTOR))


def test_claim_rate_outliers_flag_a_service_point_out_of_line(desk: ServiceDesk) -> None:
    data = ClaimRateData(
        records=(
            ServicePointPeriod("SP-east-1", "east", "2026-09", 400, 40),
            ServicePointPeriod("SP-east-2", "east", "2026-09", 400, 4),
            ServicePointPeriod("SP-east-3", "east", "2026-09", 400, 5),
            ServicePointPeriod("SP-east-1", "east", "2026-08", 400, 4),
        ),
        quality=(QualityTrend("2026-09", defect_rate=__import__("decimal").Decimal("0.01")),),
    )
    flagged = gather_report(desk, by=REPORT_ACTOR, claim_rates=data).claim_rate_outliers
    assert {f.service_point for f in flagged} == {"SP-east-1"}
    assert flagged == desk.claim_rate_outliers(
        data.records, data.quality, by=REPORT_ACTOR, period="2026-09"
    )


def test_nps_interval_contains_the_score_and_narrows_with_more_answers() -> None:
    small = nps_interval(5, 3, 2)
    large = nps_interval(500, 300, 200)
    assert small is not None
    assert large is not None
    assert small.low < 30 < small.high
    assert large.low < 30 < large.high
    assert large.high - large.low < small.high - small.low
    assert nps_interval(1, 0, 0) is None
    assert nps_interval(10, 0, 0) == nps_interval(10, 0, 0)
    with pytest.raises(ValidationError):
        nps_interval(-1, 2, 3)


@pytest.mark.parametrize("month", ["2026-13", "2026-9", "September", "", "0000-01"])
def test_a_bad_month_is_a_validation_error(desk: ServiceDesk, month: str) -> None:
    with pytest.raises(ValidationError) as info:
        gather_report(desk, by=REPORT_ACTOR, month=month)
    assert info.value.errors[0][0] == "month"


def test_the_report_needs_report_view_and_the_follow_up_list(desk: ServiceDesk) -> None:
    with pytest.raises(PermissionDenied):
        gather_report(desk, by=Actor("nobody", frozenset()))
    with pytest.raises(PermissionDenied):
        gather_report(desk, by=Actor("finance-clerk", {"finance"}))


def test_gathering_the_report_writes_nothing(store: Store, desk: ServiceDesk) -> None:
    kinds: tuple[Kind[Any], ...] = (
        ORDERS,
        RETURNS,
        COMPLAINTS,
        WARRANTY_CLAIMS,
        SURVEY_RESPONSES,
        CONTACTS,
        MESSAGES,
    )

    def snapshot() -> list[bytes]:
        with store.unit_of_work(readonly=True) as uow:
            docs = [to_json(list(uow.repo(kind).scan(order_by="key"))) for kind in kinds]
            return [*docs, to_json(uow.outbox.count())]

    before = snapshot()
    gather_report(desk, by=REPORT_ACTOR)
    assert snapshot() == before


# -- renderers ---------------------------------------------------------------------------


def test_text_report_has_every_section_as_aligned_tables(report: OperationsReport) -> None:
    text = render_text(report, max_rows=5)
    for title in (
        "Orders awaiting stock (",
        "Orders awaiting payment (",
        "Returns received in 2026-09",
        "Complaints received in 2026-09: 60",
        "Service-level targets of the month's complaints",
        "Escalated complaints still open (",
        "Member follow-up visits missed (",
        "Warranty decisions in 2026-09 by reason",
        "Claims to audit",
        "Satisfaction: responses answered in 2026-09",
        f"Contact-centre KPIs: {report.kpis.records} calls offered in 2026-09",
    ):
        assert title in text
    assert "... and" in text
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("--") and set(line) <= {"-", " "}:
            widths = [len(part) for part in line.split("  ")]
            header = lines[i - 1]
            assert len(header) <= len(line)
            assert sum(widths) + 2 * (len(widths) - 1) == len(line)
    table = text.split("Complaints received in 2026-09: 60")[1].split("\n\n")[0]
    total = next(line for line in table.splitlines() if line.startswith("total"))
    assert total.split()[-1] == "60"
    assert total.endswith(" 60")


def test_json_report_carries_every_figure(report: OperationsReport) -> None:
    data = json.loads(render_json(report))
    assert data["month"] == "2026-09"
    assert data["complaints"]["total"] == 60
    assert len(data["awaiting_stock"]) == len(report.awaiting_stock)
    assert data["warranty_reasons"] == dict(report.warranty_reasons)
    assert data["kpis"]["records"] == report.kpis.records
    assert data["satisfaction"][0]["nps_interval"]["low"] == report.satisfaction[0].nps_interval.low  # type: ignore[union-attr]
    assert data["awaiting_payment"][0]["due"]["currency"] == "CNY"
    assert isinstance(data["awaiting_payment"][0]["due"]["amount"], str)


def test_json_report_reads_back_into_the_same_report(report: OperationsReport) -> None:
    """Rule: what --json writes, a program reads back with from_json, figure for figure."""
    assert report.complaints.escalations_by_level
    assert from_json(OperationsReport, render_json(report)) == report


class _StrictPage(HTMLParser):
    """Checks that every element is closed in order and collects tags and chart points."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chart: str | None = None
        self.points: dict[str, list[dict[str, str | None]]] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "svg":
            self.chart = found.get("data-chart")
            self.points.setdefault(self.chart or "?", [])
        elif self.chart is not None and "data-value" in found:
            self.points[self.chart].append(found)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if self.chart is not None and "data-value" in found:
            self.points[self.chart].append(found)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "svg":
            self.chart = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(page: str) -> _StrictPage:
    parser = _StrictPage()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    return parser


def test_html_is_well_formed_and_self_contained(report: OperationsReport) -> None:
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    parsed = parse_page(page)
    names = {tag for tag, _ in parsed.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for _tag, found in parsed.tags:
        for name, value in found.items():
            assert not name.startswith("on")
            if name in ("src", "href"):
                pytest.fail(f"external reference {value!r}")
    assert "url(" not in page
    assert "@import" not in page
    assert "default-src 'none'" in page


def test_every_chart_has_one_data_point_per_figure(report: OperationsReport) -> None:
    parsed = parse_page(render_html(report))
    assert list(parsed.points) == list(CHARTS)
    for chart, points in parsed.points.items():
        if chart != "escalations-by-level" or report.trend[-1].escalations:
            assert points, f"chart {chart} has no data points"
    orders = {
        p["data-label"]: float(p["data-value"] or 0) for p in parsed.points["orders-by-month"]
    }
    assert orders == {m.month: float(m.orders_placed) for m in report.trend}
    received = {
        p["data-label"]: int(float(p["data-value"] or 0))
        for p in parsed.points["complaints-by-month"]
        if p["data-series"] == "received"
    }
    assert received == {m.month: m.complaints_received for m in report.trend}
    backlog = [p for p in parsed.points["backlog-by-month"] if p["data-label"] == report.month]
    assert [int(float(p["data-value"] or 0)) for p in backlog] == list(
        report.trend[-1].backlog_by_age
    )
    reasons = [int(float(p["data-value"] or 0)) for p in parsed.points["warranty-reasons"]]
    assert reasons == list(report.warranty_reasons.values())
    kpis = {p["data-kpi"]: float(p["data-value"] or 0) for p in parsed.points["kpi-vs-target"]}
    assert kpis == {f.kpi.value: f.value for f in report.kpis.figures if f.value is not None}
    (main,) = report.satisfaction
    nps = next(
        p
        for p in parsed.points["satisfaction-trend"]
        if p["data-series"] == f"{main.survey_id}:nps" and p["data-label"] == report.month
    )
    assert float(nps["data-value"] or 0) == pytest.approx(main.result.nps)
    assert "data-low" in nps
    assert "data-high" in nps


def test_no_chart_repeats_a_table_on_the_page(report: OperationsReport) -> None:
    """Rule: the HTML page shows each figure once, as a chart or as a table."""
    page = render_html(report)
    shown = set(re.findall(r'<table data-table="([a-z-]+)"', page))
    assert not shown & CHARTED_TABLES
    assert "complaint-table" in shown
    assert 'data-chart="complaint-categories"' not in page


def test_hostile_text_is_escaped_in_html_and_cleaned_in_text() -> None:
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>\x1b[31m'
    store = open_store("memory://")
    try:
        desk = ServiceDesk(store, clock=FixedClock(datetime(2026, 9, 20, 3, tzinfo=UTC)))
        survey = desk.define_survey(
            Survey(id="s-1", title=hostile, items=(SurveyItem("quality", "Quality", 1.0),)),
            by=CLERK,
        )
        for n in range(3):
            desk.record_survey_response(
                SurveyResponse(
                    id=f"r-{n}",
                    survey_id=survey.id,
                    customer_id=f"c-{n}",
                    answered_at=desk.now(),
                    ratings={"quality": 3 + n % 3},
                    nps_score=5 + 2 * n,
                ),
                by=CLERK,
            )
        customer, _ = desk.register_customer(name="Zhang San", city="Wuhan", by=CLERK)
        complaint = desk.receive_complaint(
            customer.id,
            channel="phone",
            urgency="ordinary",
            category="service",
            description=hostile,
            by=CLERK,
        )
        desk.acknowledge(complaint.id, by=CLERK)
        desk.assess_complaint(complaint.id, by=CLERK)
        desk.start_investigation(complaint.id, by=CLERK)
        desk.record_cause(complaint.id, cause=hostile, responsible_person="x", by=CLERK)
        report = gather_report(desk, by=REPORT_ACTOR)
    finally:
        store.close()
    page = render_html(report)
    parsed = parse_page(page)
    assert not {tag for tag, _ in parsed.tags} & {"script", "img"}
    assert "&lt;script&gt;" in page
    assert "\x1b" not in page
    assert any("<script>" in chunk for chunk in parsed.text)
    text = render_text(report)
    assert "\x1b" not in text
    assert hostile.replace("\x1b", " ").strip()[:20] in text


def test_an_empty_store_gives_empty_tables_not_errors() -> None:
    store = open_store("memory://")
    try:
        desk = ServiceDesk(store, clock=FixedClock(AS_OF))
        report = gather_report(desk, by=REPORT_ACTOR)
    finally:
        store.close()
    assert report.month == "2026-10"
    assert report.complaints.total == 0
    assert report.kpis.records == 0
    assert report.awaiting_stock == ()
    assert report.awaiting_payment == ()
    assert report.escalated == ()
    assert all(row.due == 0 for row in report.sla)
    text = render_text(report)
    assert "(no complaints received)" in text
    assert "(no calls recorded)" in text
    parsed = parse_page(render_html(report))
    assert list(parsed.points) == list(CHARTS)
    assert all(not points for points in parsed.points.values())
    assert len(report.trend) == 1
    assert report.headline("complaints_received").previous is None
    empty = [found for tag, found in parsed.tags if tag == "svg"]
    assert all(found.get("data-empty") == "true" for found in empty)
    assert json.loads(render_json(report))["complaints"]["total"] == 0


def test_render_limits_are_checked(report: OperationsReport) -> None:
    with pytest.raises(ValidationError):
        render_text(report, max_rows=-1)
    with pytest.raises(ValidationError):
        render_html(report, max_rows=True)


# -- the command line --------------------------------------------------------------------


def test_report_help_has_examples(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        run_cli(["report", "--help"], monkeypatch)
    assert info.value.code == 0
    out = capsys.readouterr().out
    for expected in ("examples:", "--html", "--month", "--json", "--store"):
        assert expected in out


def test_report_command_prints_text_json_and_writes_html(
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["report", "--store", demo_url, "--rows", "3", "--lang", "en"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith("Operations report 2026-09")
    assert "Complaints received in 2026-09: 60" in out
    page = tmp_path / "report.html"
    argv = ["report", "--store", demo_url, "--month", "2026-09", "--html", str(page), "--json"]
    assert run_cli(argv, monkeypatch) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["month"] == "2026-09"
    assert "written to" in captured.err
    assert list(parse_page(page.read_text(encoding="utf-8")).points) == list(CHARTS)


def test_report_command_reads_service_points_for_the_claim_rate_check(
    demo_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    points = tmp_path / "points.json"
    records = [
        {
            "service_point": f"SP-{n}",
            "region": "east",
            "period": "2026-09",
            "units": 500,
            "claims": c,
        }
        for n, c in enumerate((60, 5, 6, 4))
    ]
    points.write_text(json.dumps({"records": records}), encoding="utf-8")
    argv = ["report", "--store", demo_url, "--json", "--service-points", str(points)]
    assert run_cli(argv, monkeypatch) == 0
    flags = json.loads(capsys.readouterr().out)["claim_rate_outliers"]
    assert [f["service_point"] for f in flags] == ["SP-0"]
    points.write_text('{"records": [{"service_point": "SP-1"}]}', encoding="utf-8")
    assert run_cli(argv, monkeypatch) == 2
    assert "--service-points" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message", "code"),
    [
        (["--store", "nosuch://x"], "no backend for 'nosuch' URLs", 1),
        (["--store", "sqlite:///no/such/dir/cs.db"], "the folder no/such/dir does not exist", 2),
        (["--store", "sqlite:///missing-store.db"], "no store at sqlite:///missing-store.db", 1),
        (["--month", "2026-13"], "month", 2),
        (["--html", "no/such/dir/report.html"], "--html", 2),
        (["--service-points", "missing.json"], "missing.json does not exist", 2),
        (["--rows", "-1"], "--rows", 2),
        (["--as-of", "yesterday"], "--as-of", 2),
        (["--as-of", "2026-10-01T09:00"], "--as-of", 2),
        (["--as-of", "9999-12-31"], "--as-of", 2),
    ],
)
def test_report_errors_end_in_one_error_line_and_a_non_zero_exit(  # noqa: PLR0917 - fixtures
    argv: list[str],
    message: str,
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rule: a store error is one line and exit 1; a bad argument is usage and exit 2."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CSDOMAIN_STORE", "memory://")
    assert run_cli(["report", *argv], monkeypatch) == code
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]
    assert message in last
    if code == 1:
        assert err.startswith("csdomain: error:")
        assert "\n" not in err
    else:
        assert err.startswith("usage: csdomain report")
        assert last.startswith("csdomain report: error:")
    assert not (tmp_path / "missing-store.db").exists()


def test_as_of_takes_the_backlog_lists_at_that_moment(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: --as-of is the report's moment: a date means the end of that day in the
    order time zone, a date and time its own instant; without it, now."""
    argv = ["report", "--store", demo_url, "--json"]
    assert run_cli([*argv, "--as-of", "2026-09-30"], monkeypatch) == 0
    by_date = json.loads(capsys.readouterr().out)
    assert run_cli([*argv, "--as-of", "2026-10-01T00:00:00+08:00"], monkeypatch) == 0
    by_instant = json.loads(capsys.readouterr().out)
    assert by_date["as_of"] == by_instant["as_of"]
    assert datetime.fromisoformat(by_date["as_of"]) == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert by_date == by_instant
    assert run_cli(argv, monkeypatch) == 0
    now = json.loads(capsys.readouterr().out)
    assert datetime.fromisoformat(now["as_of"]) > datetime(2026, 10, 2, tzinfo=UTC)


def test_a_locked_database_is_one_clear_line(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = demo_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        code = run_cli(["report", "--store", f"{demo_url}?busy_timeout=50"], monkeypatch)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"csdomain: error: .*locked.*", err)


def test_a_month_without_data_reports_empty_sections(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "--store", demo_url, "--month", "2025-01", "--lang", "en"]
    assert run_cli(argv, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "(no complaints received)" in out
    assert "(no calls recorded)" in out
    assert (
        ComplaintCategory.SERVICE.value not in out.split("Complaints received")[1].split("\n\n")[0]
    )


# -- the time axis, from a small seeded store with known answers ------------------------------


@pytest.fixture(scope="module")
def seeded() -> Iterator[OperationsReport]:
    """Five complaints over July to September 2026 (Shanghai), as of 15 October.

    A: 10 July, answered after 30 min, rejected next day. B: 5 August, answered, open.
    C: 2 September, never answered, open. D: 3 September, answered after 10 min, rejected.
    E: 4 September, answered after 10 min, resolved 5 h after receipt by the quality team.
    """
    store = open_store("sqlite://")
    clock = FixedClock(datetime(2026, 7, 10, 2, tzinfo=UTC))
    desk = ServiceDesk(store, clock=clock)
    customer, _ = desk.register_customer(name="Zhang San", city="Wuhan", by=CLERK)

    def receive(at: datetime, answer_after: timedelta | None) -> str:
        clock.set(at)
        complaint = desk.receive_complaint(
            customer.id,
            channel="phone",
            urgency="ordinary",
            category="service",
            description="Late reply",
            by=CLERK,
        )
        if answer_after is not None:
            clock.set(at + answer_after)
            desk.acknowledge(complaint.id, by=CLERK)
        return complaint.id

    def reject(complaint_id: str, at: datetime) -> None:
        clock.set(at)
        desk.reject_complaint(complaint_id, reply="Not our product", by=CLERK)

    a = receive(datetime(2026, 7, 10, 2, tzinfo=UTC), timedelta(minutes=30))
    reject(a, datetime(2026, 7, 11, 2, tzinfo=UTC))
    receive(datetime(2026, 8, 5, 2, tzinfo=UTC), timedelta(minutes=30))
    receive(datetime(2026, 9, 2, 2, tzinfo=UTC), None)
    d = receive(datetime(2026, 9, 3, 2, tzinfo=UTC), timedelta(minutes=10))
    reject(d, datetime(2026, 9, 3, 5, tzinfo=UTC))
    e_at = datetime(2026, 9, 4, 2, tzinfo=UTC)
    e = receive(e_at, timedelta(minutes=10))

    def resolve(uow: Any) -> None:
        repo = uow.repo(COMPLAINTS)
        before = repo.get(e)
        resolved = StatusChange(
            from_=before.status.value, to="resolved", at=e_at + timedelta(hours=5), by=CLERK.id
        )
        repo.update(
            attrs.evolve(
                before,
                status=ComplaintStatus.RESOLVED,
                department="quality",
                history=(*before.history, resolved),
                sla_outcome=SlaOutcome.MET,
            )
        )

    desk.run(resolve)
    clock.set(AS_OF)
    yield gather_report(desk, by=REPORT_ACTOR, month="2026-09")
    store.close()


def test_the_time_axis_starts_at_the_first_month_the_store_holds(seeded: OperationsReport) -> None:
    """Rule: twelve trailing months, or fewer when the store holds less."""
    assert [m.month for m in seeded.trend] == ["2026-07", "2026-08", "2026-09"]


def test_complaints_received_and_closed_count_per_month(seeded: OperationsReport) -> None:
    assert [m.complaints_received for m in seeded.trend] == [1, 1, 3]
    assert [m.complaints_closed for m in seeded.trend] == [1, 0, 2]
    assert [m.orders_placed for m in seeded.trend] == [0, 0, 0]


def test_backlog_at_month_end_falls_into_its_age_band(seeded: OperationsReport) -> None:
    """Rule: a complaint is in the backlog from receipt until it is resolved or rejected."""
    july, august, september = seeded.trend
    assert july.backlog_by_age == (0, 0, 0, 0, 0)
    assert august.backlog_by_age == (0, 0, 0, 1, 0)  # B: 26 days old at 31 August
    assert september.backlog_by_age == (0, 0, 0, 1, 1)  # C: 28 days, B: 56 days
    assert seeded.backlog_now == (0, 0, 0, 0, 2)


def test_service_levels_by_month_and_week_count_due_and_missed_targets(
    seeded: OperationsReport,
) -> None:
    """Rule: a target is due once met or past its deadline; missed when breached."""
    september = seeded.trend[-1]
    assert (september.respond_due, september.respond_missed) == (3, 1)
    assert (september.resolve_due, september.resolve_missed) == (2, 1)
    assert september.respond_on_time == pytest.approx(2 / 3)
    assert september.resolve_on_time == 0.5
    week = seeded.weekly_sla[-1]
    assert week.week.isoformat() == "2026-08-31"
    assert (week.respond_due, week.respond_missed, week.resolve_due, week.resolve_missed) == (
        3,
        1,
        2,
        1,
    )
    assert [w.week.isoformat() for w in seeded.weekly_sla] == [
        "2026-07-06",
        "2026-08-03",
        "2026-08-31",
    ]


def test_breakdowns_by_team_and_handler(seeded: OperationsReport) -> None:
    teams = {g.name: g for g in seeded.by_team}
    assert [g.name for g in seeded.by_team] == ["unassigned", "quality"]
    assert (teams["unassigned"].received, teams["unassigned"].open_now) == (2, 1)
    assert teams["quality"].resolution.median == timedelta(hours=5)
    assert teams["quality"].breach_rate == 0.0
    assert teams["unassigned"].breach_rate == pytest.approx(2 / 3)
    (handler,) = seeded.by_handler
    assert (handler.name, handler.received, handler.closed) == (CLERK.id, 3, 2)


def test_elapsed_times_and_the_resolution_distribution(seeded: OperationsReport) -> None:
    assert seeded.response_elapsed == DurationSummary(
        2, timedelta(minutes=10), timedelta(minutes=10)
    )
    assert seeded.resolution_elapsed.count == 1
    assert seeded.resolution_elapsed.median == timedelta(hours=5)
    assert seeded.resolution_distribution == (0, 0, 1, 0, 0, 0)  # 4-24 hours


def test_every_headline_figure_stands_beside_the_month_before(seeded: OperationsReport) -> None:
    """Rule: month-on-month change on every headline figure."""
    received = seeded.headline("complaints_received")
    assert (received.value, received.previous, received.change) == (3, 1, 2)
    backlog = seeded.headline("backlog")
    assert (backlog.value, backlog.previous) == (2, 1)
    resolve = seeded.headline("resolve_on_time")
    assert resolve.value == 0.5
    assert resolve.previous == 0.0  # B is past its resolution target and still open
    text = render_text(seeded)
    assert "Headline figures, 2026-09 against 2026-08" in text
    cards = render_html(seeded).split('<ul class="cards">')[1].split("</ul>")[0]
    assert cards.count("<li ") == len(seeded.headlines)
    assert "+2 on 2026-08" in cards


def test_overdue_items_say_how_long_they_are_overdue(seeded: OperationsReport) -> None:
    table = report_tables(seeded)["overdue"]
    assert table.header[-1] == "overdue by"
    for breach, row in zip(seeded.overdue, table.rows, strict=True):
        assert row[-1] == fmt_duration(seeded.as_of - breach.due)


# -- the sections come from the desk's queries ------------------------------------------------


def test_order_kpis_are_the_desk_query_of_the_month_and_the_month_before(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    """Rule: the order KPIs (订单KPI) are the desk's, for the month and the month before."""
    start, end = SEPTEMBER
    assert report.order_kpis == desk.order_kpis(start=start, end=end, by=REPORT_ACTOR)
    assert report.order_kpis_previous is None  # the store holds nothing before September
    october = gather_report(desk, by=REPORT_ACTOR, month="2026-10")
    assert october.order_kpis_previous == report.order_kpis
    assert [m.month for m in october.trend] == ["2026-09", "2026-10"]
    valid = report.headline("valid_order_rate")
    assert valid.value == report.order_kpis.valid_order_rate
    text = render_text(report)
    assert "valid-order rate" in text
    assert "manual-adjustment rate" in text


def test_service_kpis_are_the_desk_query_of_the_month(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    kpis = desk.service_kpis(start=SEPTEMBER[0], end=SEPTEMBER[1], by=REPORT_ACTOR)
    assert report.service_kpis == kpis
    parsed = parse_page(render_html(report))
    jobs = parsed.points["service-open-jobs"]
    expected = sum(kpis.open_by_technician.values()) + sum(kpis.open_by_area.values())
    assert sum(int(float(p["data-value"] or 0)) for p in jobs) == expected
    rates = {
        p["data-label"]: float(p["data-value"] or 0) for p in parsed.points["failure-rate-by-model"]
    }
    assert rates == pytest.approx(dict(kpis.failure_rate_by_model))


def test_failure_rate_is_repairs_per_installed_unit_with_the_units_shown(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    # Rule: failure rate = repairs received in the month / installed units of the model,
    # and the table shows the installed units it divides by (text en and zh-CN, JSON)
    kpis = report.service_kpis
    assert kpis is not None
    assert kpis.repairs_by_model
    installed: dict[str, int] = {}
    for product in desk.run(lambda uow: list(uow.repo(PRODUCT_FILES).scan())):
        installed[product.model] = installed.get(product.model, 0) + 1
    assert dict(kpis.installed_by_model) == dict(sorted(installed.items()))
    for model, repairs in kpis.repairs_by_model.items():
        assert kpis.failure_rate_by_model[model] == pytest.approx(repairs / installed[model])
    table = report_tables(report)["failure-rates"]
    assert table.header == ("model", "repairs", "installed units", "failure rate")
    assert "per installed unit" in table.title
    assert [row[:3] for row in table.rows] == [
        (model, str(repairs), str(installed[model]))
        for model, repairs in kpis.repairs_by_model.items()
    ]
    en_text = render_text(report, language="en", max_rows=200)
    zh_text = render_text(report, language="zh-CN", max_rows=200)
    assert "installed units" in en_text
    assert "装机台数" in zh_text
    assert "故障率" in zh_text
    data = json.loads(render_json(report))
    assert data["service_kpis"]["installed_by_model"] == dict(kpis.installed_by_model)
    page = render_html(report)
    model, units = next(iter(kpis.installed_by_model.items()))
    assert f"{kpis.repairs_by_model[model]} repairs / {units} units)" in page


def test_service_kpis_written_before_the_installed_units_still_read(
    report: OperationsReport,
) -> None:
    # Rule: JSON written before installed_by_model existed reads back, the divisor empty
    data = json.loads(render_json(report))
    del data["service_kpis"]["installed_by_model"]
    old = from_json(OperationsReport, json.dumps(data))
    assert old.service_kpis is not None
    assert old.service_kpis.installed_by_model == {}
    assert old.service_kpis.failure_rate_by_model == report.service_kpis.failure_rate_by_model  # type: ignore[union-attr]
    rows = report_tables(old)["failure-rates"].rows
    assert {row[2] for row in rows} == {"0"}


def test_agent_kpis_are_the_desk_reports_per_agent(
    report: OperationsReport, desk: ServiceDesk
) -> None:
    assert dict(report.agent_kpis) == desk.agent_kpi_reports(*SEPTEMBER, by=REPORT_ACTOR)
    assert "agent-0" in render_text(report)


def test_the_trend_agrees_with_the_store(report: OperationsReport, desk: ServiceDesk) -> None:
    def counts(uow: Any) -> tuple[int, int]:
        low, high = SEPTEMBER
        return (
            uow.repo(ORDERS).count(placed_at__ge=low, placed_at__lt=high),
            sum(
                1
                for c in uow.repo(COMPLAINTS).scan()
                for step in c.escalations
                if low <= step.at < high
            ),
        )

    orders, steps = desk.run(counts, readonly=True)
    september = report.trend[-1]
    assert september.orders_placed == orders
    assert september.escalations == steps
    assert september.complaints_received == report.complaints.total
    assert (september.respond_due, september.respond_missed) == (
        report.sla_for("respond").due,
        report.sla_for("respond").missed,
    )


def test_escalations_show_their_first_and_last_step(report: OperationsReport) -> None:
    for row in report.escalated:
        assert row.steps >= 1
        assert row.first_escalated_at is not None
        assert row.escalated_at is not None
        assert row.first_escalated_at <= row.escalated_at


# -- the report in Chinese and English (issue #16 item 3) ----------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")

#: Headings of the HTML page and titles of the text report, English -> Chinese.
ZH_HEADINGS = {
    "Orders": "订单",
    "Returns and damage": "退货与破损",
    "Complaints": "投诉",
    "Warranty": "三包",
    "Customer satisfaction": "顾客满意度",
    "Field service": "现场服务",
    "Contact centre": "呼叫中心",
    "Key complaint figures": "投诉关键数据",
}


class _Recording:
    """Wraps the report's text lookup and keeps every message id a rendering asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import csdomain.report.i18n as report_i18n

        self.asked: set[tuple[str | None, str]] = set()
        original = report_i18n._text

        def spy(tr: Translator, message: str, context: str | None = None) -> str:
            self.asked.add((context, message))
            return original(tr, message, context)

        monkeypatch.setattr(report_i18n, "_text", spy)


def test_the_report_renders_fully_in_chinese(
    report: OperationsReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule: every label, heading, header, legend and sentence of the report goes through the
    # zh-CN catalog; no English label is left where a translation exists
    recording = _Recording(monkeypatch)
    text = render_text(report, language="zh-CN")
    page = render_html(report, language="zh-CN")
    zh = translator("zh-CN")
    untranslated = {
        (context, message)
        for context, message in recording.asked
        if context is None and not zh.has(message) and not CJK.search(message)
    }
    assert untranslated == set()
    assert text.startswith("运营报告 2026-09（2026年9月，Asia/Shanghai）")
    assert '<html lang="zh-CN">' in page
    headings = re.findall(r"<h[23]>([^<]*)</h[23]>", page)
    for english, chinese in ZH_HEADINGS.items():
        assert chinese in headings
        assert english not in headings
    assert all(CJK.search(h) for h in headings), headings
    for table in _tables_in(report, "zh-CN").values():
        assert CJK.search(table.title), table.title
        assert any(CJK.search(h) for h in table.header), table.header


def _tables_in(report: OperationsReport, language: str) -> dict[str, Table]:
    with report_language(language):
        return report_tables(report)


def test_coded_values_read_as_chinese_words(report: OperationsReport) -> None:
    # Rule: statuses, categories and reasons read as words in the report's language
    zh = translator("zh-CN")
    assert all(zh.has(words, context) for context, words in REPORT_VALUES)
    with report_language("zh-CN"):
        assert label_of(ComplaintCategory.PRODUCT_QUALITY) == "产品质量"
        assert label_of(ComplaintStatus.INVESTIGATING) == "调查中"
        assert label_of("customer-service-free-text") == "customer-service-free-text"
    assert label_of(ComplaintCategory.PRODUCT_QUALITY) == "product quality"


def test_numbers_money_and_months_are_written_the_languages_way(report: OperationsReport) -> None:
    # Rule: month names, numbers, percentages and money per language (Babel, CLDR)
    zh_text = render_text(report, language="zh-CN", max_rows=200)
    en_text = render_text(report, language="en", max_rows=200)
    assert "2026年9月" in zh_text
    assert "September 2026" in en_text
    assert re.search(r"\d%", zh_text)
    assert re.search(r"\d %", en_text)
    if report.awaiting_payment:
        row = report.awaiting_payment[0]
        assert translator("zh-CN").format_money(row.total) in zh_text
        assert str(row.total) in en_text
    zh_page = render_html(report, language="zh-CN")
    axis = re.findall(r'class="muted">(\d{4}年\d{1,2}月|\d{1,2}月)</text>', zh_page)
    assert axis[0] == translator("zh-CN").month_label(*parse_month(report.trend[0].month))


def test_english_is_the_default_and_unchanged(report: OperationsReport) -> None:
    # Rule: the library renders in English unless told; English output is the message ids
    assert render_text(report) == render_text(report, language="en")
    assert render_html(report) == render_html(report, language=translator("en"))
    assert render_text(report).startswith("Operations report 2026-09 (September 2026,")
    assert '<html lang="en">' in render_html(report)


def test_a_missing_translation_falls_back_to_english_never_a_message_id(
    report: OperationsReport, tmp_path: Path
) -> None:
    # Rule: a text the language's catalog lacks is shown in English, whole
    catalog = Catalog(locale="fr", domain="csdomain")
    catalog.add("Orders", "Commandes")
    catalog.add("Orders awaiting stock ({count})", "Commandes en attente de stock ({nombre})")
    with (tmp_path / "fr.po").open("wb") as handle:
        write_po(handle, catalog)
    french = translator("fr", [tmp_path])
    page = render_html(report, language=french)
    text = render_text(report, language=french)
    assert "<h2>Commandes</h2>" in page
    assert "<h2>Complaints</h2>" in page
    # a translation with other placeholders does not count: the English text is shown
    assert f"Orders awaiting stock ({len(report.awaiting_stock)})" in text
    for rendered in (text, page):
        assert not re.search(r"\{[a-z_]+\}", rendered)
    assert '<html lang="fr">' in page


def test_an_unknown_language_is_a_validation_error(report: OperationsReport) -> None:
    # Rule: bad input gets a ValidationError naming the field
    with pytest.raises(ValidationError) as refused:
        render_text(report, language="klingon")
    assert refused.value.errors[0][0] == "language"


def test_the_report_text_list_is_exactly_what_its_modules_mark() -> None:
    # Rule: one source of texts: the catalog template holds what the report marks
    source = Path(csdomain_report.__file__).parent
    marked = {
        msgid
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            source,
            method_map=[("i18n/**.py", "ignore"), ("**.py", "python")],
            keywords={"_": None, "_t": None, "N_": None},
        )
    }
    assert marked == set(REPORT_TEXTS)
    assert len(REPORT_TEXTS) == len(set(REPORT_TEXTS))
    zh = translator("zh-CN")
    assert [t for t in REPORT_TEXTS if not zh.has(t)] == []


def test_report_command_speaks_the_policys_language_unless_told(
    demo_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: --lang chooses; without it the policy's notifications.language (zh-CN) does
    assert run_cli(["report", "--store", demo_url, "--rows", "2"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith("运营报告 2026-09")
    assert run_cli(["report", "--store", demo_url, "--lang", "en", "--rows", "2"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith("Operations report 2026-09")
    assert (
        run_cli(["report", "--store", demo_url, "--lang", "zh_CN", "--rows", "2"], monkeypatch) == 0
    )
    assert capsys.readouterr().out.startswith("运营报告 2026-09")
    assert run_cli(["report", "--store", demo_url, "--lang", "klingon"], monkeypatch) != 0
    assert "--lang" in capsys.readouterr().err
