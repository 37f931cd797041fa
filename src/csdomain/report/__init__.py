"""The operations report: the monthly review a customer-service manager reads.

:func:`gather_report` collects, through the :class:`~csdomain.service.ServiceDesk` queries
and a few read-only store queries, everything the review needs into one typed
:class:`OperationsReport`:

- the order backlog: orders waiting for stock (每日订单确认) and orders waiting for payment
  (先付款, 后发货: a prepayment, the full payment or the balance of custom work);
- the monthly return and damage analysis (docs/domain.md 2);
- the complaint statistics table (顾客投诉分类统计表) and service-level compliance of the
  month's complaints, the targets overdue now, the escalated complaints still open and
  the member follow-up visits that were missed (docs/domain.md 3);
- warranty decisions by reason code, claims with signs of tampering, and service points
  whose claim rate is out of line when their figures are supplied (docs/domain.md 4);
- CSAT, NPS and the weighted satisfaction index with confidence intervals (docs/domain.md 5);
- the contact-centre KPIs against their standards (docs/domain.md 3.3), per agent too;
- a time axis over the trailing twelve months (or what the store holds): orders, complaints
  received and closed, the backlog by age, escalations by level, service-level breaches by
  week and by team, CSAT and NPS with their intervals, and every headline figure beside
  the month before (:mod:`~csdomain.report.trend`);
- the order KPIs (订单KPI) and the field-service KPIs of the month and the month before.

Three renderers turn it into aligned text tables (:func:`render_text`), JSON through
:mod:`csdomain.serialization` (:func:`render_json`) and one self-contained HTML page whose
charts are inline SVG, with no script and no external resource (:func:`render_html`).
``csdomain report`` on the command line (:mod:`csdomain.cli.report`) does all three.

Period figures count what happened in one calendar month, read in the order numbering
time zone (``policy.orders.number_tz``). Backlog figures (orders waiting, targets overdue,
open escalations, missed visits) are the state of the store at ``as_of``.

The package: :mod:`~csdomain.report.model` (the typed report), :mod:`~csdomain.report.gather`,
the shared :mod:`~csdomain.report.cells` and :mod:`~csdomain.report.tables`, and one module
per renderer (:mod:`~csdomain.report.text`, :mod:`~csdomain.report.json`,
:mod:`~csdomain.report.html`).
"""

from __future__ import annotations

from csdomain.report import html as _html
from csdomain.report import model as _model
from csdomain.report.gather import TRAILING_MONTHS, gather_report, nps_interval
from csdomain.report.html import render_html
from csdomain.report.json import render_json
from csdomain.report.model import (
    AGEING_BUCKETS,
    RESOLUTION_BUCKETS,
    AwaitingPayment,
    ClaimRateData,
    DurationSummary,
    EscalatedComplaint,
    GroupFigures,
    Headline,
    MissingFollowUp,
    MonthTrend,
    OperationsReport,
    SatisfactionFigures,
    SatisfactionMonth,
    SlaCompliance,
    SuspectClaim,
    WeekSla,
    parse_month,
)
from csdomain.report.text import render_text


__all__ = [
    "AGEING_BUCKETS",
    "CHARTED_TABLES",
    "CHARTS",
    "REPORT_ACTOR",
    "RESOLUTION_BUCKETS",
    "TAMPERING_SIGNALS",
    "TRAILING_MONTHS",
    "AwaitingPayment",
    "ClaimRateData",
    "DurationSummary",
    "EscalatedComplaint",
    "GroupFigures",
    "Headline",
    "MissingFollowUp",
    "MonthTrend",
    "OperationsReport",
    "SatisfactionFigures",
    "SatisfactionMonth",
    "SlaCompliance",
    "SuspectClaim",
    "WeekSla",
    "gather_report",
    "nps_interval",
    "parse_month",
    "render_html",
    "render_json",
    "render_text",
]

# The constants again, with their documentation here (the API reference reads this module).

#: The actor the command line reports as: a customer-service manager, who may read every
#: figure (``report.view``) and the follow-up list (``complaint.handle``). The report only
#: runs read-only units of work.
REPORT_ACTOR = _model.REPORT_ACTOR
#: Warranty reason codes that point at a tampered claim (docs/domain.md 4, exclusion 2:
#: 涂改三包凭证, 序列号不符); such claims are listed for audit with the manual overrides.
TAMPERING_SIGNALS = _model.TAMPERING_SIGNALS
#: The ``data-chart`` names of the HTML report's charts, in page order.
CHARTS = _html.CHARTS
#: Tables the HTML page leaves out because a chart shows the same figures.
CHARTED_TABLES = _html.CHARTED_TABLES
