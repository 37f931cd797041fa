"""Former home of ``csdomain report``'s command line, now :mod:`csdomain.cli.report`."""

from __future__ import annotations

from csdomain.cli.report import add_report_command


__all__ = ["add_report_command"]
