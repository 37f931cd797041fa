"""The operations report as JSON: every figure, through :mod:`csdomain.serialization`."""

from __future__ import annotations

import json

from csdomain.report.model import OperationsReport
from csdomain.serialization import to_json


__all__ = ["render_json"]


def render_json(report: OperationsReport, *, indent: int | None = 2) -> str:
    """The report as JSON (every figure, through :mod:`csdomain.serialization`)."""
    data = json.loads(to_json(report))
    return json.dumps(data, indent=indent, ensure_ascii=False)
