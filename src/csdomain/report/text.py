"""The operations report as aligned text tables, for a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from csdomain.errors import ValidationError
from csdomain.report.cells import clean, fmt_when, month_title
from csdomain.report.model import OperationsReport
from csdomain.report.tables import Table, report_tables


__all__ = ["render_text"]


def _width(text: str) -> int:
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def _text_table(table: Table, max_rows: int) -> list[str]:
    lines = [table.title, "=" * _width(table.title)]
    if not table.rows:
        return [*lines, f"({table.empty})"]
    header = [clean(h) for h in table.header]
    limit = max_rows if table.is_list else len(table.rows)
    shown = [[clean(cell) for cell in row] for row in table.rows[:limit]]
    widths = [_width(h) for h in header]
    for row in shown:
        widths = [max(w, _width(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            _pad(cell, w, i in table.numeric)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    lines += [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in shown]
    if len(table.rows) > limit:
        lines.append(f"... and {len(table.rows) - limit} more (see --json or --html)")
    if table.note:
        lines.append(f"note: {clean(table.note)}")
    return lines


def render_text(report: OperationsReport, *, max_rows: int = 20) -> str:
    """The report as aligned text tables, for a terminal (at most ``max_rows`` per list)."""
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    zone = ZoneInfo(report.tz)
    title = f"Operations report {report.month} ({month_title(report)}, {report.tz})"
    lines = [
        title,
        "#" * _width(title),
        (
            f"as of {fmt_when(report.as_of, zone)} {report.tz}; period figures count "
            f"{fmt_when(report.start, zone)} to {fmt_when(report.end, zone)}"
        ),
    ]
    for table in report_tables(report).values():
        lines += ["", *_text_table(table, max_rows)]
    return "\n".join(lines) + "\n"
