"""The operations report as aligned text tables, for a terminal."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from csdomain.errors import ValidationError
from csdomain.i18n import Translator
from csdomain.report.cells import clean, fmt_when, month_title
from csdomain.report.i18n import _, report_language
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
        lines.append(
            _("... and {count} more (see --json or --html)", count=len(table.rows) - limit)
        )
    if table.note:
        lines.append(_("note: {note}", note=clean(table.note)))
    return lines


def render_text(
    report: OperationsReport, *, max_rows: int = 20, language: str | Translator = "en"
) -> str:
    """The report as aligned text tables, for a terminal (at most ``max_rows`` per list).

    ``language`` is a tag (``"zh-CN"``, ``"en"``) or a :class:`~csdomain.i18n.Translator`
    (one with ``catalog_dirs`` for a third language); texts it lacks are shown in English.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValidationError.at("max_rows", "must be a whole number >= 0")
    with report_language(language):
        return _render_text(report, max_rows)


def _render_text(report: OperationsReport, max_rows: int) -> str:
    zone = ZoneInfo(report.tz)
    title = _(
        "Operations report {month} ({month_name}, {tz})",
        month=report.month,
        month_name=month_title(report),
        tz=report.tz,
    )
    lines = [
        title,
        "#" * _width(title),
        _(
            "as of {as_of} {tz}; period figures count {start} to {end}",
            as_of=fmt_when(report.as_of, zone),
            tz=report.tz,
            start=fmt_when(report.start, zone),
            end=fmt_when(report.end, zone),
        ),
    ]
    for table in report_tables(report).values():
        lines += ["", *_text_table(table, max_rows)]
    return "\n".join(lines) + "\n"
