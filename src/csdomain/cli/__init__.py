"""The ``csdomain`` command line: demo data, plugin listing, dispatching, reports.

Every command has ``--help`` with examples. Errors are one clear line on stderr and a
non-zero exit status, never a traceback (set ``CSDOMAIN_DEBUG=1`` to see one):

* 2 for a usage error (a bad option or option value, also one the library checks, such
  as ``--limit 0`` or an in-memory ``--store`` where a command reads a store), with the
  command's usage line;
* 1 when the command could not do its work (a store that is not there, a refused import);
* 130 after Ctrl-C, having left nothing half-built;
* 141 when the reader of the output went away (``csdomain outbox | head -1``), quietly.

``-v`` shows what happens (the log notifier's deliveries, plugin loading) through stdlib
:mod:`logging` on stderr, ``-vv`` debug detail; ``-q`` leaves stderr to errors (no
progress bars, log lines or hints; a command's results still print on stdout). Each command lives in
its own module (``csdomain.cli.demo``, ``csdomain.cli.report`` ...) and adds its parser
here; shared helpers are in ``csdomain.cli._common``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from csdomain._version import __version__
from csdomain.cli import demo, dispatch, outbox, plugins, report, transfer
from csdomain.cli._common import DEFAULT_STORE, Handler, Progress, require_existing_store
from csdomain.errors import CsDomainError, ValidationError


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
    parser.add_argument("--version", action="version", version=f"csdomain {__version__}")
    _add_loudness(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins.add_plugins_command(sub)
    demo.add_demo_command(sub)
    report.add_report_command(sub)
    transfer.add_export_command(sub)
    transfer.add_import_command(sub)
    dispatch.add_dispatch_command(sub)
    outbox.add_outbox_command(sub)
    for command in sub.choices.values():
        _add_loudness(command, top=False)
    return parser


#: Exit statuses of the command line.
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def _configure_logging(verbose: int, quiet: bool) -> None:
    """Show the ``csdomain`` loggers on stderr: warnings by default, more with ``-v``."""
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    else:
        level = logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger("csdomain")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _add_loudness(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v``/``-q``, before or after the command name (``csdomain dispatch --once -v``)."""
    default: Any = 0 if top else argparse.SUPPRESS
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default,
        help="say what happens (log notifier deliveries, plugins); -vv for debug detail",
    )
    loudness.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="errors only on stderr: no progress bars, log lines or hints",
    )


def _is_usage_error(err: ValidationError) -> bool:
    """An error about an option or argument of the command line (``--limit``, ``ID``)."""
    paths = [path for path, _message in err.errors]
    return bool(paths) and all(p.startswith("-") or (p.isupper() and p.isalpha()) for p in paths)


def _command_parser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    # argparse has no public accessor for the subcommands' parsers
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            chosen: argparse.ArgumentParser = action.choices[name]
            return chosen
    return parser


def _quiet_broken_pipe() -> int:
    """The reader went away: say nothing more, and keep Python from complaining at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout has no file descriptor (captured): nothing is flushed to a pipe
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    Progress.quiet = bool(args.quiet)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    debug = bool(os.environ.get("CSDOMAIN_DEBUG"))
    try:
        status = handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt:
        if debug:
            raise
        print("csdomain: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ValidationError as err:
        if debug:
            raise
        if _is_usage_error(err):
            _command_parser(parser, args.command).print_usage(sys.stderr)
            print(f"csdomain {args.command}: error: {err}", file=sys.stderr)
            return EXIT_USAGE
        print(f"csdomain: error: {err}", file=sys.stderr)
        return 1
    except CsDomainError as err:
        if debug:
            raise
        print(f"csdomain: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        if debug:
            raise
        message: Any = err if str(err) else type(err).__name__
        print(f"csdomain: error: {message}", file=sys.stderr)
        return 1
    return status
