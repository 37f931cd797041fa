"""Former home of ``csdomain export`` / ``import``, now :mod:`csdomain.cli.transfer`."""

from __future__ import annotations

from csdomain.cli.transfer import add_export_command, add_import_command


__all__ = ["add_export_command", "add_import_command"]
