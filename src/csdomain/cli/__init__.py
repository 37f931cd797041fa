"""The ``csdomain`` command line: demo data, plugin listing, dispatching, reports.

Every command has ``--help`` with examples. Errors are one clear line on stderr and a
non-zero exit status, never a traceback (set ``CSDOMAIN_DEBUG=1`` to see one). Each
command lives in its own module (``csdomain.cli.demo``, ``csdomain.cli.report`` ...) and
adds its parser here; shared helpers are in ``csdomain.cli._common``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from csdomain.cli import demo, dispatch, outbox, plugins, report, transfer
from csdomain.cli._common import DEFAULT_STORE, Handler, Progress, require_existing_store
from csdomain.errors import CsDomainError


__all__ = ["DEFAULT_STORE", "Progress", "build_parser", "main", "require_existing_store"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``csdomain`` command."""
    parser = argparse.ArgumentParser(
        prog="csdomain",
        description="csdomain: the domain core for customer service and after-sales teams.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain demo                      build the demo store in ./csdomain.db\n"
            "  csdomain plugins                   list backends and notifiers\n"
            "  csdomain report --html report.html the monthly operations review\n"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins.add_plugins_command(sub)
    demo.add_demo_command(sub)
    report.add_report_command(sub)
    transfer.add_export_command(sub)
    transfer.add_import_command(sub)
    dispatch.add_dispatch_command(sub)
    outbox.add_outbox_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except CsDomainError as err:
        if os.environ.get("CSDOMAIN_DEBUG"):
            raise
        print(f"csdomain: error: {err}", file=sys.stderr)
        return 1
    except (OSError, KeyboardInterrupt) as err:
        if os.environ.get("CSDOMAIN_DEBUG"):
            raise
        message: Any = err if str(err) else type(err).__name__
        print(f"csdomain: error: {message}", file=sys.stderr)
        return 1
