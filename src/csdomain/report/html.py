"""The operations report as one self-contained HTML page with inline SVG charts."""

from __future__ import annotations

import html
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo

from csdomain._version import __version__
from csdomain.errors import ValidationError
from csdomain.i18n import Translator
from csdomain.kpi import KpiFigure, KpiReport
from csdomain.report.cells import (
    clean,
    fmt_change,
    fmt_headline,
    fmt_kpi_target,
    fmt_kpi_value,
    fmt_pct,
    fmt_when,
    label_of,
    month_title,
)
from csdomain.report.i18n import current, pct_sign, report_language, show_money
from csdomain.report.i18n import translate as _t
from csdomain.report.model import (
    AGEING_BUCKETS,
    RESOLUTION_BUCKETS,
    OperationsReport,
    parse_month,
)
from csdomain.report.tables import Table, report_tables


__all__ = ["CHARTED_TABLES", "CHARTS", "render_html"]

#: The ``data-chart`` names of the HTML report's charts, in page order.
CHARTS: tuple[str, ...] = (
    "orders-by-month",
    "returns-by-reason",
    "complaints-by-month",
    "backlog-by-month",
    "resolution-time",
    "sla-by-week",
    "sla-by-team",
    "escalations-by-level",
    "warranty-reasons",
    "satisfaction-trend",
    "service-open-jobs",
    "failure-rate-by-model",
    "kpi-vs-target",
)
#: Tables the HTML page leaves out because a chart shows the same figures (text and JSON
#: keep them): the page shows each figure once.
CHARTED_TABLES: frozenset[str] = frozenset(
    {
        "headlines",
        "trend",
        "resolution-distribution",
        "sla-by-week",
        "sla-by-team",
        "warranty-reasons",
        "open-jobs",
        "failure-rates",
        "kpis",
    }
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


def _width(text: str) -> int:
    """How many Latin letters wide ``text`` is: a Chinese character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _short(text: str, limit: int = 34) -> str:
    """``text`` cut to ``limit`` Latin letters' width, with an ellipsis when cut."""
    if _width(text) <= limit:
        return text
    kept = ""
    for ch in text:
        if _width(kept + ch) > limit - 1:
            break
        kept += ch
    return kept + "\u2026"


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


def _kpi_scale(figure: KpiFigure) -> float:
    if figure.unit == "ratio":
        return 1.0
    marks = [v for v in (figure.value, figure.low, figure.high) if v is not None]
    return max(1.0, max(marks, default=1.0) * 1.25)


def _kpi_chart(report: KpiReport) -> str:
    """Bullet rows: each KPI on its own scale, its target band shaded, red when missed."""
    title = _t("Contact-centre KPIs against their targets (shaded)")
    if not report.records:
        return _no_data("kpi-vs-target", title, _t("no calls recorded this month"))
    body: list[str] = []
    span = _BAR_END - _BAR_X
    for i, figure in enumerate(report.figures):
        y = _TOP + i * _ROW
        scale = _kpi_scale(figure)
        name = label_of(figure.kpi)
        target = fmt_kpi_target(figure)
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
            unmeasured = _e(_t("not measured"))
            parts.append(f'<text x="{_BAR_END + 8}" y="{y + 12}" class="muted">{unmeasured}</text>')
            untold = _e(_t("{name}: not measured, target {target}", name=name, target=target))
            body.append(
                f'<g class="no-data" data-kpi="{figure.kpi.value}"><title>{untold}</title>'
                f"{''.join(parts)}</g>"
            )
            continue
        width = span * min(figure.value, scale) / scale
        colour = "#2e7d32" if figure.passed else "#c62828"
        shown = fmt_kpi_value(figure)
        against = _e(_t("{value} (target {target})", value=shown, target=target))
        told = _e(_t("{name}: {value}, target {target}", name=name, value=shown, target=target))
        parts += [
            (
                f'<rect class="mark" x="{_BAR_X}" y="{y + 5}" width="{width:.2f}" height="8" '
                f'fill="{colour}"/>'
            ),
            f'<text x="{_BAR_END + 8}" y="{y + 12}">{against}</text>',
        ]
        bounds = ("" if figure.low is None else f' data-low="{_data(figure.low)}"') + (
            "" if figure.high is None else f' data-high="{_data(figure.high)}"'
        )
        body.append(
            f'<g class="point" data-kpi="{figure.kpi.value}" data-value="{_data(figure.value)}" '
            f'data-passed="{str(figure.passed).lower()}"{bounds}>'
            f"<title>{told}</title>{''.join(parts)}</g>"
        )
    return _svg("kpi-vs-target", title, _TOP + len(report.figures) * _ROW + 8, body, empty=False)


_PLOT_LEFT = 56
_PLOT_RIGHT = _W - 12
_PLOT_H = 150
_PALETTE = ("#3b6ea5", "#e07b39", "#2e7d32", "#8e44ad", "#c62828", "#00838f", "#6d4c41")
_AGE_COLOURS = ("#c8e6c9", "#81c784", "#fbc02d", "#ef6c00", "#c62828")


def _axis_labels(labels: Sequence[str], slot: float, y: float) -> list[str]:
    """Category labels under a plot, thinned so that they never overlap (80 px apart at least)."""
    step = max(1, math.ceil(80 / slot))
    return [
        f'<text x="{_PLOT_LEFT + slot * (i + 0.5):.2f}" y="{y}" text-anchor="middle" '
        f'class="muted">{_e(label)}</text>'
        for i, label in enumerate(labels)
        if i % step == 0
    ]


def _y_axis(top: float, shown: Callable[[float], str]) -> list[str]:
    """Three gridlines with their values, 0 at the bottom of the plot."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = _TOP + _PLOT_H * (1 - fraction)
        parts.append(
            f'<line x1="{_PLOT_LEFT}" y1="{y:.2f}" x2="{_PLOT_RIGHT}" y2="{y:.2f}" '
            f'stroke="#e0e0e0"/><text x="{_PLOT_LEFT - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end" class="muted">{_e(shown(top * fraction))}</text>'
        )
    return parts


def _legend(series: Sequence[tuple[str, str]], y: float) -> list[str]:
    parts, x = [], float(_PLOT_LEFT)
    for name, colour in series:
        parts.append(
            f'<rect x="{x:.2f}" y="{y}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16:.2f}" y="{y + 10}" class="muted">{_e(name)}</text>'
        )
        x += 16 + 7 * _width(name) + 18
    return parts


_Series = tuple[str, str, str, Sequence[float]]


def _column_chart(
    chart: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[_Series],
    empty_message: str,
    *,
    stacked: bool,
    line: _Series | None = None,
) -> str:
    """Columns per category (months), stacked or side by side, with an optional line.

    Every column and line point is a ``class="point mark"`` element with ``data-series``,
    ``data-label`` and ``data-value``.
    """
    every = [*series, *([line] if line else [])]
    if not any(v for _key, _name, _colour, values in every for v in values):
        return _no_data(chart, title, empty_message)
    totals = [
        sum(values[i] for *_, values in series) if stacked else max(v[i] for *_, v in series)
        for i in range(len(labels))
    ]
    top = max([*totals, *(line[3] if line else [])]) or 1.0
    slot = (_PLOT_RIGHT - _PLOT_LEFT) / max(1, len(labels))
    width = slot * 0.7 / (1 if stacked else len(series))
    bottom = _TOP + _PLOT_H
    body = _y_axis(top, lambda v: f"{v:.0f}")
    for i, label in enumerate(labels):
        base = 0.0
        for n, (key, name, colour, values) in enumerate(series):
            value = values[i]
            height = _PLOT_H * value / top
            x = _PLOT_LEFT + slot * i + slot * 0.15 + (0 if stacked else n * width)
            y = bottom - base - height
            body.append(
                f'<rect class="point mark" data-series="{key}" data-label="{_e(label)}" '
                f'data-value="{_data(value)}" x="{x:.2f}" y="{y:.2f}" width="{width:.2f}" '
                f'height="{height:.2f}" fill="{colour}"><title>{_e(label)}, {_e(name)}: '
                f"{_data(value)}</title></rect>"
            )
            if stacked:
                base += height
    if line is not None:
        key, name, colour, values = line
        points = [
            (_PLOT_LEFT + slot * (i + 0.5), bottom - _PLOT_H * v / top)
            for i, v in enumerate(values)
        ]
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), label, value in zip(points, labels, values, strict=True):
            body.append(
                f'<circle class="point mark" data-series="{key}" data-label="{_e(label)}" '
                f'data-value="{_data(value)}" cx="{x:.2f}" cy="{y:.2f}" r="3.5" '
                f'fill="{colour}"><title>{_e(label)}, {_e(name)}: {_data(value)}</title></circle>'
            )
    body += _axis_labels(labels, slot, bottom + 16)
    body += _legend([(name, colour) for _k, name, colour, _v in every], bottom + 28)
    return _svg(chart, title, bottom + 48, body, empty=False)


_Band = tuple[float, float] | None
_LineSeries = tuple[str, str, str, Sequence[float | None], Sequence[_Band]]


def _line_chart(
    chart: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[_LineSeries],
    empty_message: str,
    *,
    low: float,
    high: float,
    shown: Callable[[float], str],
) -> str:
    """Lines over categories on a fixed ``low..high`` scale, with shaded interval bands.

    Every measured point is a ``class="point mark"`` circle with ``data-series``,
    ``data-label``, ``data-value`` and, with a band, ``data-low`` / ``data-high``.
    """
    if not any(v is not None for *_, values, _bands in series for v in values):
        return _no_data(chart, title, empty_message)
    slot = (_PLOT_RIGHT - _PLOT_LEFT) / max(1, len(labels))
    bottom = _TOP + _PLOT_H

    def y_of(value: float) -> float:
        return bottom - _PLOT_H * (min(high, max(low, value)) - low) / (high - low)

    body = []
    for fraction in (0.0, 0.5, 1.0):
        tick = low + (high - low) * fraction
        y = y_of(tick)
        body.append(
            f'<line x1="{_PLOT_LEFT}" y1="{y:.2f}" x2="{_PLOT_RIGHT}" y2="{y:.2f}" '
            f'stroke="#e0e0e0"/><text x="{_PLOT_LEFT - 6}" y="{y + 4:.2f}" '
            f'text-anchor="end" class="muted">{_e(shown(tick))}</text>'
        )
    for key, name, colour, values, bands in series:
        xs = [_PLOT_LEFT + slot * (i + 0.5) for i in range(len(labels))]
        for i, band in enumerate(bands):
            if band is not None and values[i] is not None:
                top, foot = y_of(band[1]), y_of(band[0])
                body.append(
                    f'<rect class="band" x="{xs[i] - min(slot * 0.4, 14):.2f}" y="{top:.2f}" '
                    f'width="{min(slot * 0.8, 28):.2f}" height="{max(foot - top, 0.5):.2f}" '
                    f'fill="{colour}" fill-opacity="0.18"/>'
                )
        runs: list[list[str]] = [[]]
        for x, value in zip(xs, values, strict=True):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x:.2f},{y_of(value):.2f}")
        body += [
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            for run in runs
            if len(run) > 1
        ]
        for x, label, value, band in zip(xs, labels, values, bands, strict=True):
            if value is None:
                continue
            extra = (
                "" if band is None else f' data-low="{_data(band[0])}" data-high="{_data(band[1])}"'
            )
            text = shown(value) + ("" if band is None else f" [{shown(band[0])}, {shown(band[1])}]")
            body.append(
                f'<circle class="point mark" data-series="{_e(key)}" data-label="{_e(label)}" '
                f'data-value="{_data(value)}"{extra} cx="{x:.2f}" cy="{y_of(value):.2f}" r="3.5" '
                f'fill="{colour}"><title>{_e(label)}, {_e(name)}: {_e(text)}</title></circle>'
            )
    body += _axis_labels(labels, slot, bottom + 16)
    body += _legend([(name, colour) for _k, name, colour, _v, _b in series], bottom + 28)
    return _svg(chart, title, bottom + 48, body, empty=False)


def _pct(value: float) -> str:
    return f"{100 * value:.0f}{pct_sign()}"


def _month_axis(months: Sequence[str]) -> list[str]:
    """The months of a chart's axis as the language writes them.

    English keeps ``2026-03``; another language names the month (``3月``) and its year too
    on the first month and on each January (``2026年1月``), so the labels fit their slot.
    """
    tr = current()
    if tr.is_source:
        return list(months)
    shown = []
    for i, month in enumerate(months):
        year, number = parse_month(month)
        whole = i == 0 or number == 1
        shown.append(
            tr.month_label(year, number) if whole else tr.month_name(number, "abbreviated")
        )
    return shown


def _satisfaction_trend(report: OperationsReport) -> str:
    """CSAT (0..100) and NPS (-100..100) per month and survey, with interval bands."""
    months = [m.month for m in report.trend]
    months_shown = _month_axis(months)
    surveys = sorted({s.survey_id for s in report.satisfaction_trend})
    by_key = {(s.survey_id, s.month): s for s in report.satisfaction_trend}
    series: list[_LineSeries] = []
    for n, survey_id in enumerate(surveys):
        colour = _PALETTE[(2 * n) % len(_PALETTE)]
        rows = [by_key.get((survey_id, month)) for month in months]
        for figure, other, name in (
            ("csat", "csat_interval", _t("CSAT")),
            ("nps", "nps_interval", _t("NPS")),
        ):
            values = [None if r is None else getattr(r, figure) for r in rows]
            bands: list[_Band] = []
            for r in rows:
                interval = None if r is None else getattr(r, other)
                bands.append(None if interval is None else (interval.low, interval.high))
            series.append(
                (
                    f"{survey_id}:{figure}",
                    f"{name} {survey_id}",
                    colour if figure == "csat" else _PALETTE[(2 * n + 1) % len(_PALETTE)],
                    values,
                    bands,
                )
            )
    return _line_chart(
        "satisfaction-trend",
        _t("CSAT % and NPS per month with their confidence intervals (shaded)"),
        months_shown,
        series,
        _t("no survey responses in these months"),
        low=-100.0,
        high=100.0,
        shown=lambda v: f"{v:.0f}",
    )


def _charts(report: OperationsReport) -> dict[str, str]:
    """Every chart of the page by its ``data-chart`` name."""
    months = [m.month for m in report.trend]
    months_shown = _month_axis(months)
    by_reason = report.returns_by_reason()
    levels = sorted({level for m in report.trend for level in m.escalations_by_level})
    weeks = [w.week.isoformat() for w in report.weekly_sla]
    service = report.service_kpis
    jobs: list[tuple[str, float, str]] = []
    if service is not None:
        jobs += [
            (_t("technician {name}", name=k), float(n), str(n))
            for k, n in service.open_by_technician.items()
        ]
        jobs += [
            (_t("area {name}", name=k), float(n), str(n)) for k, n in service.open_by_area.items()
        ]
    failures = (
        []
        if service is None
        else [
            (
                model,
                rate,
                _t(
                    "{rate} ({count} repairs / {units} units)",
                    rate=fmt_pct(rate, 2),
                    count=service.repairs_by_model.get(model, 0),
                    units=service.installed_by_model.get(model, 0),
                ),
            )
            for model, rate in service.failure_rate_by_model.items()
        ]
    )
    total_resolved = sum(report.resolution_distribution)
    return {
        "orders-by-month": _column_chart(
            "orders-by-month",
            _t("Orders placed per month"),
            months_shown,
            [
                (
                    "orders",
                    _t("orders placed"),
                    _BLUE,
                    [float(m.orders_placed) for m in report.trend],
                )
            ],
            _t("no orders in these months"),
            stacked=True,
        ),
        "returns-by-reason": _bar_chart(
            "returns-by-reason",
            _t("Returns received by reason (refund amount)"),
            [
                (
                    label_of(reason),
                    float(amount.amount),
                    _t("{amount} ({count} returns)", amount=show_money(amount), count=count),
                )
                for reason, (count, _quantity, amount) in by_reason.items()
            ],
            _t("no returns received this month"),
        ),
        "complaints-by-month": _column_chart(
            "complaints-by-month",
            _t("Complaints received and closed per month, open at each month's end (line)"),
            months_shown,
            [
                (
                    "received",
                    _t("received"),
                    _BLUE,
                    [float(m.complaints_received) for m in report.trend],
                ),
                (
                    "closed",
                    _t("closed"),
                    "#2e7d32",
                    [float(m.complaints_closed) for m in report.trend],
                ),
            ],
            _t("no complaints in these months"),
            stacked=False,
            line=(
                "open",
                _t("open at month end"),
                "#c62828",
                [float(m.backlog) for m in report.trend],
            ),
        ),
        "backlog-by-month": _column_chart(
            "backlog-by-month",
            _t("Open complaints at each month's end by age"),
            months_shown,
            [
                (
                    f"age-{i}",
                    _t(label),
                    _AGE_COLOURS[i % len(_AGE_COLOURS)],
                    [float(m.backlog_by_age[i]) for m in report.trend],
                )
                for i, (label, _upper) in enumerate(AGEING_BUCKETS)
            ],
            _t("no open complaints at these months' ends"),
            stacked=True,
        ),
        "resolution-time": _bar_chart(
            "resolution-time",
            _t(
                "Resolution time of the complaints received in {month} (elapsed)",
                month=report.month,
            ),
            [
                (
                    _t(label),
                    float(n),
                    f"{n} ({fmt_pct(n / total_resolved if total_resolved else None, 0)})",
                )
                for (label, _upper), n in zip(
                    RESOLUTION_BUCKETS, report.resolution_distribution, strict=True
                )
            ],
            _t("no complaint of the month resolved yet"),
        ),
        "sla-by-week": _line_chart(
            "sla-by-week",
            _t("Service-level breach rate by week received (targets missed / due)"),
            weeks,
            [
                (
                    "respond",
                    _t("response target"),
                    "#e07b39",
                    [w.respond_breach_rate for w in report.weekly_sla],
                    [None] * len(weeks),
                ),
                (
                    "resolve",
                    _t("resolution target"),
                    "#c62828",
                    [w.resolve_breach_rate for w in report.weekly_sla],
                    [None] * len(weeks),
                ),
            ],
            _t("no complaints received in these weeks"),
            low=0.0,
            high=1.0,
            shown=_pct,
        ),
        "sla-by-team": _bar_chart(
            "sla-by-team",
            _t(
                "Service-level breach rate by team, complaints received in {month}",
                month=report.month,
            ),
            [
                (
                    label_of(g.name),
                    g.breach_rate or 0.0,
                    _t(
                        "{rate} ({missed} of {due})",
                        rate=fmt_pct(g.breach_rate),
                        missed=g.respond_missed + g.resolve_missed,
                        due=g.respond_due + g.resolve_due,
                    ),
                )
                for g in report.by_team
                if g.respond_due + g.resolve_due
            ],
            _t("no targets due this month"),
        ),
        "escalations-by-level": _column_chart(
            "escalations-by-level",
            _t("Escalation steps per month by the level reached"),
            months_shown,
            [
                (
                    f"level-{level}",
                    _t("level {level}", level=level),
                    _PALETTE[i % len(_PALETTE)],
                    [float(m.escalations_by_level.get(level, 0)) for m in report.trend],
                )
                for i, level in enumerate(levels)
            ],
            _t("no escalations in these months"),
            stacked=True,
        ),
        "warranty-reasons": _bar_chart(
            "warranty-reasons",
            _t("Warranty decisions by reason code"),
            [(label_of(code), float(n), str(n)) for code, n in report.warranty_reasons.items()],
            _t("no warranty decisions this month"),
        ),
        "satisfaction-trend": _satisfaction_trend(report),
        "service-open-jobs": _bar_chart(
            "service-open-jobs",
            _t(
                "Open service jobs received in {month}, by technician and by area",
                month=report.month,
            ),
            jobs,
            _t("no open service jobs"),
        ),
        "failure-rate-by-model": _bar_chart(
            "failure-rate-by-model",
            _t("Failure rate by model: repairs per installed unit (故障率分析)"),
            failures,
            _t("no repairs this month"),
        ),
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
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 10px;
  margin: 16px 0; padding: 0; list-style: none; }
.cards li { border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 12px; min-width: 0;
  overflow-wrap: anywhere; }
.cards .label { display: block; color: #52606d; }
.cards strong { display: block; font-size: 20px; }
.cards .change { display: block; font-size: 12px; color: #616e7c; }
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
        more = _t("... and {count} more rows (see the JSON output).", count=len(table.rows) - limit)
        parts.append(f'<p class="muted">{_e(more)}</p>')
    if table.note:
        parts.append(f'<p class="note">{_e(table.note)}</p>')
    return "\n".join(parts)


def _cards(report: OperationsReport) -> str:
    """One card per headline figure: its name in full, the value and the change."""
    previous = report.trend[-2].month if len(report.trend) > 1 else None
    items = []
    for figure in report.headlines:
        change = fmt_change(figure)
        against = (
            _t("no figure the month before")
            if change == "-"
            else _t("{change} on {previous}", change=change, previous=previous)
        )
        items.append(
            f'<li data-headline="{_e(figure.key)}">'
            f'<span class="label">{_e(_t(figure.label))}</span>'
            f"<strong>{_e(fmt_headline(figure, figure.value))}</strong>"
            f'<span class="change">{_e(against)}</span></li>'
        )
    return f'<ul class="cards">{"".join(items)}</ul>'


def render_html(
    report: OperationsReport, *, max_rows: int = 200, language: str | Translator = "en"
) -> str:
    """One self-contained HTML page: tables and inline SVG charts, no script, no network.

    Each chart is an ``<svg data-chart="...">`` (names in :data:`CHARTS`) with one element
    per data point carrying ``data-value``; a chart without data says so and carries
    ``data-empty="true"``. All text is escaped. ``language`` is a tag or a
    :class:`~csdomain.i18n.Translator`, as for :func:`~csdomain.report.render_text`; the
    page's ``lang`` attribute says which.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    with report_language(language) as tr:
        return _render_html(report, max_rows, tr)


def _render_html(report: OperationsReport, max_rows: int, tr: Translator) -> str:
    zone = ZoneInfo(report.tz)
    tables = report_tables(report)
    charts = _charts(report)

    def table(key: str) -> str:
        return _html_table(tables[key], max_rows)

    title = _t("Operations report {month}", month=report.month)
    sections = [
        (
            "orders",
            _t("Orders"),
            [
                charts["orders-by-month"],
                table("order-kpis"),
                table("awaiting-stock"),
                table("awaiting-payment"),
            ],
        ),
        ("returns", _t("Returns and damage"), [charts["returns-by-reason"], table("returns")]),
        (
            "complaints",
            _t("Complaints"),
            [
                charts["complaints-by-month"],
                charts["backlog-by-month"],
                table("complaint-table"),
                table("complaint-figures"),
                charts["resolution-time"],
                table("backlog-ageing"),
                table("sla"),
                charts["sla-by-week"],
                charts["sla-by-team"],
                table("teams"),
                table("handlers"),
                charts["escalations-by-level"],
                table("escalated"),
                table("overdue"),
                table("missing-follow-ups"),
            ],
        ),
        (
            "warranty",
            _t("Warranty"),
            [
                charts["warranty-reasons"],
                table("suspect-claims"),
                table("claim-rate-outliers"),
            ],
        ),
        (
            "satisfaction",
            _t("Customer satisfaction"),
            [charts["satisfaction-trend"], table("satisfaction")],
        ),
        (
            "field-service",
            _t("Field service"),
            [
                table("service-kpis"),
                charts["service-open-jobs"],
                charts["failure-rate-by-model"],
            ],
        ),
        ("contact-centre", _t("Contact centre"), [charts["kpi-vs-target"], table("agents")]),
    ]
    body = [
        "<header>",
        f"<h1>{_e(title)} \u2014 {_e(month_title(report))}</h1>",
        (
            '<p class="meta">'
            + _e(
                _t(
                    "Period {start} to {end} ({tz}); backlog as of {as_of}. "
                    "Generated by csdomain {version}.",
                    start=fmt_when(report.start, zone),
                    end=fmt_when(report.end, zone),
                    tz=report.tz,
                    as_of=fmt_when(report.as_of, zone),
                    version=__version__,
                )
            )
            + "</p>"
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
            f'<html lang="{_e(tr.language)}">',
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
