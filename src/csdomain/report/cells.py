"""How the report writes one figure as text: shared by its tables, text and HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from csdomain.kpi import KpiFigure
from csdomain.orders import AwaitingStock
from csdomain.report.i18n import _, clean, current, label_of, pct_sign
from csdomain.report.model import Headline, OperationsReport, parse_month
from csdomain.satisfaction import Interval


__all__ = [
    "clean",
    "fmt_change",
    "fmt_duration",
    "fmt_headline",
    "fmt_interval",
    "fmt_kpi_status",
    "fmt_kpi_target",
    "fmt_kpi_value",
    "fmt_num",
    "fmt_pct",
    "fmt_shortages",
    "fmt_when",
    "label_of",
    "month_title",
]


def fmt_pct(fraction: float | None, digits: int = 1) -> str:
    """A 0..1 share as a percentage; ``-`` when there is none."""
    return "-" if fraction is None else f"{100 * fraction:.{digits}f}{pct_sign()}"


def fmt_num(value: float | None, digits: int = 1) -> str:
    """A number with ``digits`` decimals; ``-`` when there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_duration(value: timedelta | None) -> str:
    """A duration in its two largest units (``2d 04h``, ``3h 05m``, ``12m``, ``40s``)."""
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return _("{seconds}s", seconds=max(0, int(seconds)))
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("{days}d {hours}h", days=days, hours=f"{hours:02d}")
    if hours:
        return _("{hours}h {minutes}m", hours=hours, minutes=f"{mins:02d}")
    return _("{minutes}m", minutes=mins)


def fmt_when(value: datetime | None, zone: ZoneInfo) -> str:
    """A moment to the minute in ``zone``; ``-`` when there is none."""
    return "-" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def fmt_interval(value: float | None, interval: Interval | None, digits: int = 1) -> str:
    """A figure with its confidence interval in brackets, when it has one."""
    if value is None:
        return "-"
    if interval is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{interval.low:.{digits}f}, {interval.high:.{digits}f}]"


def fmt_headline(figure: Headline, value: float | None) -> str:
    """A headline's value in its unit: a count, a percentage, a score, days or money."""
    if value is None:
        return "-"
    if figure.unit == "ratio":
        return fmt_pct(value)
    if figure.unit == "count":
        return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"
    if figure.unit == "money":
        return f"{value:,.2f}"
    return f"{value:.1f}"


def fmt_change(figure: Headline) -> str:
    """A headline's month-on-month change, signed: percentage points for ratios."""
    change = figure.change
    if change is None:
        return "-"
    if figure.unit == "ratio":
        return _("{change} pts", change=f"{100 * change:+.1f}")
    if figure.unit == "count":
        return f"{change:+g}" if float(change).is_integer() else f"{change:+.1f}"
    if figure.unit == "money":
        return f"{change:+,.2f}"
    return f"{change:+.1f}"


def fmt_kpi_value(figure: KpiFigure) -> str:
    """A KPI's value in its unit (percent, seconds or a plain number)."""
    if figure.value is None:
        return "-"
    if figure.unit == "ratio":
        return fmt_pct(figure.value)
    if figure.unit == "seconds":
        return _("{seconds} s", seconds=f"{figure.value:.1f}")
    return f"{figure.value:.2f}"


def fmt_kpi_target(figure: KpiFigure) -> str:
    """A KPI's target band (``>= 80 %``, ``<= 20 s``, ``1 - 3``) in its unit."""

    def show(value: float) -> str:
        if figure.unit == "ratio":
            return fmt_pct(value, 0)
        if figure.unit == "seconds":
            return _("{seconds} s", seconds=f"{value:g}")
        return f"{value:g}"

    if figure.low is not None and figure.high is not None:
        return f"{show(figure.low)} - {show(figure.high)}"
    if figure.low is not None:
        return f">= {show(figure.low)}"
    if figure.high is not None:
        return f"<= {show(figure.high)}"
    return "-"


def fmt_kpi_status(figure: KpiFigure) -> str:
    """Whether a KPI met its target: ``met``, ``MISSED`` or ``no data``."""
    passed = figure.passed
    return _("no data") if passed is None else (_("met") if passed else _("MISSED"))


def fmt_shortages(row: AwaitingStock) -> str:
    """What an order is short of: ``sku (bucket) available/needed`` per line."""
    return ", ".join(
        f"{s.sku} ({label_of(s.bucket)}) {s.available}/{s.needed}" for s in row.shortages
    )


def month_title(report: OperationsReport) -> str:
    """The report's month in words (``September 2026``, ``2026年9月``)."""
    year, number = parse_month(report.month)
    tr = current()
    if not tr.is_source:
        return tr.month_label(year, number)
    return datetime(year, number, 1, tzinfo=UTC).strftime("%B %Y")
