"""The operations report as one self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from csdomain._version import __version__
from csdomain.complaints import SlaKind
from csdomain.errors import ValidationError
from csdomain.kpi import ContactKpi, KpiFigure, KpiReport
from csdomain.report.cells import (
    clean,
    fmt_kpi_target,
    fmt_kpi_value,
    fmt_pct,
    fmt_when,
    label_of,
    month_title,
)
from csdomain.report.model import OperationsReport
from csdomain.report.tables import Table, report_tables
from csdomain.satisfaction import Interval


__all__ = ["CHARTS", "render_html"]

#: The ``data-chart`` names of the HTML report's charts, in page order.
CHARTS: tuple[str, ...] = (
    "returns-by-reason",
    "complaint-categories",
    "sla-compliance",
    "warranty-reasons",
    "satisfaction",
    "kpi-vs-target",
)

_W = 760
_LABEL_X = 222
_BAR_X = 230
_BAR_END = 550
_ROW = 24
_TOP = 30
_BLUE = "#3b6ea5"
_INK = 'stroke="#333333" stroke-width="1.5"'
#: No script, no network: the page may only use its own inline styles.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_TOTAL_ROW = ' class="total"'
_SERIES = (
    ("met", "met on time", "#2e7d32"),
    ("late", "met late", "#f9a825"),
    ("overdue", "overdue", "#c62828"),
    ("pending", "not due yet", "#9e9e9e"),
)


def _e(text: object) -> str:
    return html.escape(clean(text), quote=True)


def _data(value: float) -> str:
    """A number for a ``data-`` attribute that parses back to the same float."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _svg(chart: str, title: str, height: int, body: Iterable[str], *, empty: bool) -> str:
    """An inline chart: ``data-chart`` names it, the title is shown and read out."""
    label = _e(title)
    opening = (
        f'<svg data-chart="{chart}" viewBox="0 0 {_W} {height}" width="{_W}" height="{height}" '
        f'role="img" aria-label="{label}" class="chart"'
        + (' data-empty="true"' if empty else "")
        + ">"
    )
    heading = f'<text x="0" y="16" class="caption">{label}</text>'
    return "\n".join([opening, f"<title>{label}</title>", heading, *body, "</svg>"])


def _no_data(chart: str, title: str, message: str) -> str:
    body = [f'<text x="{_BAR_X}" y="{_TOP + 12}" class="muted">{_e(message)}</text>']
    return _svg(chart, title, _TOP + 28, body, empty=True)


def _bar_chart(
    chart: str, title: str, points: Sequence[tuple[str, float, str]], empty_message: str
) -> str:
    """Horizontal bars: one ``<g data-value>`` per point with its label, bar and value."""
    if not any(value for _, value, _ in points):
        return _no_data(chart, title, empty_message)
    top = max(value for _, value, _ in points)
    body: list[str] = []
    for i, (label, value, shown) in enumerate(points):
        y = _TOP + i * _ROW
        width = (_BAR_END - _BAR_X) * value / top
        body.append(
            f'<g class="point" data-label="{_e(label)}" data-value="{_data(value)}">'
            f"<title>{_e(label)}: {_e(shown)}</title>"
            f'<text x="{_LABEL_X}" y="{y + 12}" text-anchor="end">{_e(_short(label))}</text>'
            f'<rect class="mark" x="{_BAR_X}" y="{y + 2}" width="{width:.2f}" height="14" '
            f'fill="{_BLUE}"/>'
            f'<text x="{_BAR_X + width + 6:.2f}" y="{y + 12}">{_e(shown)}</text>'
            "</g>"
        )
    return _svg(chart, title, _TOP + len(points) * _ROW + 8, body, empty=False)


def _sla_chart(report: OperationsReport) -> str:
    """Stacked bars per target: met on time, met late, overdue, not due yet."""
    title = "Service-level targets of the month's complaints"
    rows = [r for r in report.sla if r.due or r.pending]
    if not rows:
        return _no_data("sla-compliance", title, "no complaints received this month")
    body: list[str] = []
    span = _BAR_END - _BAR_X
    for i, row in enumerate(rows):
        y = _TOP + i * (_ROW + 8)
        total = row.due + row.pending
        body.append(
            f'<text x="{_LABEL_X}" y="{y + 14}" text-anchor="end">'
            f"{_e(label_of(row.target))}: {_e(fmt_pct(row.rate, 0))} on time</text>"
        )
        x = float(_BAR_X)
        for key, name, colour in _SERIES:
            value = getattr(row, key)
            width = span * value / total
            body.append(
                f'<rect class="point mark" data-series="{key}" data-target="{row.target.value}" '
                f'data-value="{value}" x="{x:.2f}" y="{y + 2}" width="{width:.2f}" height="18" '
                f'fill="{colour}"><title>{_e(label_of(row.target))}, {name}: {value}</title></rect>'
            )
            x += width
        body.append(
            f'<text x="{_BAR_END + 6}" y="{y + 14}">{row.due} due, {row.pending} not yet</text>'
        )
    legend_y = _TOP + len(rows) * (_ROW + 8) + 2
    x = _BAR_X
    for _key, name, colour in _SERIES:
        body.append(
            f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="{legend_y + 10}" class="muted">{_e(name)}</text>'
        )
        x += 16 + 7 * len(name) + 16
    return _svg("sla-compliance", title, legend_y + 20, body, empty=False)


def _kpi_scale(figure: KpiFigure) -> float:
    if figure.unit == "ratio":
        return 1.0
    marks = [v for v in (figure.value, figure.low, figure.high) if v is not None]
    return max(1.0, max(marks, default=1.0) * 1.25)


def _kpi_chart(report: KpiReport) -> str:
    """Bullet rows: each KPI on its own scale, its target band shaded, red when missed."""
    title = "Contact-centre KPIs against their targets (shaded)"
    if not report.records:
        return _no_data("kpi-vs-target", title, "no calls recorded this month")
    body: list[str] = []
    span = _BAR_END - _BAR_X
    for i, figure in enumerate(report.figures):
        y = _TOP + i * _ROW
        scale = _kpi_scale(figure)
        name = label_of(figure.kpi)
        target = _e(fmt_kpi_target(figure))
        low = 0.0 if figure.low is None else min(figure.low, scale)
        high = scale if figure.high is None else min(figure.high, scale)
        band_x = _BAR_X + span * low / scale
        band_w = span * (high - low) / scale
        parts = [
            f'<text x="{_LABEL_X}" y="{y + 12}" text-anchor="end">{_e(name)}</text>',
            f'<rect x="{_BAR_X}" y="{y + 1}" width="{span}" height="16" fill="#eeeeee"/>',
            (
                f'<rect class="target" x="{band_x:.2f}" y="{y + 1}" width="{band_w:.2f}" '
                f'height="16" fill="#c8e6c9"/>'
            ),
        ]
        if figure.value is None:
            parts.append(f'<text x="{_BAR_END + 8}" y="{y + 12}" class="muted">not measured</text>')
            body.append(
                f'<g class="no-data" data-kpi="{figure.kpi.value}"><title>{_e(name)}: not '
                f"measured, target {target}</title>{''.join(parts)}</g>"
            )
            continue
        width = span * min(figure.value, scale) / scale
        colour = "#2e7d32" if figure.passed else "#c62828"
        shown = _e(fmt_kpi_value(figure))
        parts += [
            (
                f'<rect class="mark" x="{_BAR_X}" y="{y + 5}" width="{width:.2f}" height="8" '
                f'fill="{colour}"/>'
            ),
            f'<text x="{_BAR_END + 8}" y="{y + 12}">{shown} (target {target})</text>',
        ]
        bounds = ("" if figure.low is None else f' data-low="{_data(figure.low)}"') + (
            "" if figure.high is None else f' data-high="{_data(figure.high)}"'
        )
        body.append(
            f'<g class="point" data-kpi="{figure.kpi.value}" data-value="{_data(figure.value)}" '
            f'data-passed="{str(figure.passed).lower()}"{bounds}>'
            f"<title>{_e(name)}: {shown}, target {target}</title>{''.join(parts)}</g>"
        )
    return _svg("kpi-vs-target", title, _TOP + len(report.figures) * _ROW + 8, body, empty=False)


_SatisfactionRow = tuple[str, str | None, float | None, Interval | None]


def _satisfaction_rows(report: OperationsReport) -> list[_SatisfactionRow]:
    """A heading row per survey (label, None ...) then its figures with intervals."""
    rows: list[_SatisfactionRow] = []
    for figures in report.satisfaction:
        result = figures.result
        rows.append((figures.title, None, None, None))
        measured: tuple[_SatisfactionRow, ...] = (
            ("CSAT %", figures.survey_id, result.csat, result.csat_interval),
            ("satisfied %", figures.survey_id, result.satisfied_share, result.satisfied_interval),
            (
                "weighted index",
                figures.survey_id,
                result.index,
                None if result.score is None else result.score.interval,
            ),
            ("NPS", figures.survey_id, result.nps, figures.nps_interval),
        )
        rows += [row for row in measured if row[2] is not None]
    return rows


def _satisfaction_chart(report: OperationsReport) -> str:
    """Dots with confidence-interval whiskers on one -100..100 axis."""
    title = "Satisfaction: percentages and index on 0 to 100, NPS on -100 to 100, with intervals"
    rows = _satisfaction_rows(report)
    if not any(value is not None for _, _, value, _ in rows):
        return _no_data("satisfaction", title, "no survey responses this month")
    left, right = _BAR_X, _BAR_END + 60

    def x_of(value: float) -> float:
        return left + (right - left) * (max(-100.0, min(100.0, value)) + 100) / 200

    axis_y = _TOP + len(rows) * _ROW
    body = []
    for tick in (-100, -50, 0, 50, 100):
        x = x_of(tick)
        body.append(
            f'<line x1="{x:.2f}" y1="{_TOP - 4}" x2="{x:.2f}" y2="{axis_y}" '
            f'stroke="{"#9e9e9e" if tick == 0 else "#e0e0e0"}"/>'
            f'<text x="{x:.2f}" y="{axis_y + 14}" text-anchor="middle" class="muted">{tick}</text>'
        )
    for i, (label, survey_id, value, interval) in enumerate(rows):
        y = _TOP + i * _ROW + 9
        if value is None or survey_id is None:
            body.append(f'<text x="0" y="{y + 4}" class="group">{_e(_short(label, 60))}</text>')
            continue
        extra, whisker, shown = "", "", f"{value:.1f}"
        if interval is not None:
            lo, hi = x_of(interval.low), x_of(interval.high)
            extra = f' data-low="{_data(interval.low)}" data-high="{_data(interval.high)}"'
            shown += f" [{interval.low:.1f}, {interval.high:.1f}]"
            whisker = "".join(
                f'<line x1="{x1:.2f}" y1="{y1}" x2="{x2:.2f}" y2="{y2}" {_INK}/>'
                for x1, y1, x2, y2 in (
                    (lo, y, hi, y),
                    (lo, y - 5, lo, y + 5),
                    (hi, y - 5, hi, y + 5),
                )
            )
        body.append(
            f'<g class="point" data-survey="{_e(survey_id)}" data-label="{_e(label)}" '
            f'data-value="{_data(value)}"{extra}><title>{_e(label)}: {_e(shown)}</title>'
            f'<text x="{_LABEL_X}" y="{y + 4}" text-anchor="end">{_e(label)}</text>{whisker}'
            f'<circle class="mark" cx="{x_of(value):.2f}" cy="{y}" r="5" fill="{_BLUE}"/>'
            f'<text x="{right + 12}" y="{y + 4}">{_e(shown)}</text></g>'
        )
    return _svg("satisfaction", title, axis_y + 22, body, empty=False)


def _charts(report: OperationsReport) -> dict[str, str]:
    """Every chart of the page by its ``data-chart`` name."""
    by_reason = report.returns_by_reason()
    return {
        "returns-by-reason": _bar_chart(
            "returns-by-reason",
            "Returns received by reason (refund amount)",
            [
                (label_of(reason), float(amount.amount), f"{amount} ({count} returns)")
                for reason, (count, _quantity, amount) in by_reason.items()
            ],
            "no returns received this month",
        ),
        "complaint-categories": _bar_chart(
            "complaint-categories",
            "Complaints received by category",
            [
                (label_of(category), float(n), str(n))
                for category, n in report.complaints_by_category().items()
            ],
            "no complaints received this month",
        ),
        "sla-compliance": _sla_chart(report),
        "warranty-reasons": _bar_chart(
            "warranty-reasons",
            "Warranty decisions by reason code",
            [(label_of(code), float(n), str(n)) for code, n in report.warranty_reasons.items()],
            "no warranty decisions this month",
        ),
        "satisfaction": _satisfaction_chart(report),
        "kpi-vs-target": _kpi_chart(report.kpis),
    }


_CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  margin: 0 auto; max-width: 1100px; padding: 24px; color: #1f2933; background: #ffffff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #d9e2ec; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.muted, p.meta { color: #616e7c; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; padding: 0; list-style: none; }
.cards li { border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.cards strong { display: block; font-size: 20px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 3px 10px 3px 0; text-align: left;
  vertical-align: top; }
th { color: #52606d; font-weight: 600; background: #ffffff; }
div.scroll { max-height: 22em; overflow: auto; display: inline-block; max-width: 100%; }
div.scroll th { position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0 4px; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #1f2933; }
svg.chart text.muted { fill: #616e7c; }
svg.chart text.caption { font-weight: 600; font-size: 13px; }
svg.chart text.group { font-weight: 600; }
p.note { background: #fff8e1; padding: 6px 10px; border-left: 3px solid #f9a825; }
@media print {
  body { padding: 0; } h2 { break-after: avoid; } svg.chart { break-inside: avoid; }
  div.scroll { max-height: none; overflow: visible; }
}
"""


def _html_table(table: Table, max_rows: int) -> str:
    parts = [f"<h3>{_e(table.title)}</h3>"]
    if not table.rows:
        parts.append(f'<p class="muted">{_e(table.empty)}</p>')
        return "\n".join(parts)

    def cls(i: int) -> str:
        return ' class="num"' if i in table.numeric else ""

    limit = max_rows if table.is_list else len(table.rows)
    head = "".join(f'<th scope="col"{cls(i)}>{_e(h)}</th>' for i, h in enumerate(table.header))
    body = []
    for n, row in enumerate(table.rows[:limit]):
        cells = "".join(f"<td{cls(i)}>{_e(cell)}</td>" for i, cell in enumerate(row))
        total = table.key == "complaint-table" and n == len(table.rows) - 1
        body.append(f"<tr{_TOTAL_ROW if total else ''}>{cells}</tr>")
    scroll = ' class="scroll"' if table.is_list else ""
    parts.append(
        f'<div{scroll}><table data-table="{table.key}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    if len(table.rows) > limit:
        parts.append(
            f'<p class="muted">... and {len(table.rows) - limit} more rows '
            "(see the JSON output).</p>"
        )
    if table.note:
        parts.append(f'<p class="note">{_e(table.note)}</p>')
    return "\n".join(parts)


def _cards(report: OperationsReport) -> str:
    resolve = report.sla_for(SlaKind.RESOLVE)
    main_survey = max(report.satisfaction, key=lambda s: s.result.responses, default=None)
    first = None if main_survey is None else main_survey.result
    survey = "" if main_survey is None else f" ({_short(main_survey.title, 24)})"
    service_level = next(
        (f for f in report.kpis.figures if f.kpi is ContactKpi.SERVICE_LEVEL), None
    )
    cards = (
        ("orders awaiting stock", str(len(report.awaiting_stock))),
        ("orders awaiting payment", str(len(report.awaiting_payment))),
        ("complaints received", str(report.complaints.total)),
        ("resolved on time", fmt_pct(resolve.rate, 0)),
        ("escalated, still open", str(len(report.escalated))),
        ("follow-ups missed", str(len(report.missing_follow_ups))),
        (f"CSAT{survey}", "-" if first is None or first.csat is None else f"{first.csat:.1f} %"),
        (f"NPS{survey}", "-" if first is None or first.nps is None else f"{first.nps:.1f}"),
        ("service level", "-" if service_level is None else fmt_kpi_value(service_level)),
    )
    items = "".join(f"<li><strong>{_e(value)}</strong>{_e(name)}</li>" for name, value in cards)
    return f'<ul class="cards">{items}</ul>'


def render_html(report: OperationsReport, *, max_rows: int = 200) -> str:
    """One self-contained HTML page: tables and inline SVG charts, no script, no network.

    Each chart is an ``<svg data-chart="...">`` (names in :data:`CHARTS`) with one element
    per data point carrying ``data-value``; a chart without data says so and carries
    ``data-empty="true"``. All text is escaped.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    zone = ZoneInfo(report.tz)
    tables = report_tables(report)
    charts = _charts(report)

    def table(key: str) -> str:
        return _html_table(tables[key], max_rows)

    title = f"Operations report {report.month}"
    sections = [
        ("orders", "Orders", [table("awaiting-stock"), table("awaiting-payment")]),
        ("returns", "Returns and damage", [charts["returns-by-reason"], table("returns")]),
        (
            "complaints",
            "Complaints",
            [
                charts["complaint-categories"],
                table("complaint-table"),
                table("complaint-figures"),
                charts["sla-compliance"],
                table("sla"),
                table("overdue"),
                table("escalated"),
                table("missing-follow-ups"),
            ],
        ),
        (
            "warranty",
            "Warranty",
            [
                charts["warranty-reasons"],
                table("warranty-reasons"),
                table("suspect-claims"),
                table("claim-rate-outliers"),
            ],
        ),
        ("satisfaction", "Customer satisfaction", [charts["satisfaction"], table("satisfaction")]),
        ("contact-centre", "Contact centre", [charts["kpi-vs-target"], table("kpis")]),
    ]
    body = [
        "<header>",
        f"<h1>{_e(title)} \u2014 {_e(month_title(report))}</h1>",
        (
            f'<p class="meta">Period {_e(fmt_when(report.start, zone))} to '
            f"{_e(fmt_when(report.end, zone))} ({_e(report.tz)}); backlog as of "
            f"{_e(fmt_when(report.as_of, zone))}. Generated by csdomain {_e(__version__)}.</p>"
        ),
        "</header>",
        "<main>",
        _cards(report),
    ]
    for key, heading, parts in sections:
        body += [f'<section id="{key}">', f"<h2>{_e(heading)}</h2>", *parts, "</section>"]
    body.append("</main>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
