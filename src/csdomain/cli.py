"""The ``csdomain`` command line: demo data, plugin listing, dispatching, reports.

Every command has ``--help`` with examples. Errors are one clear line on stderr and a
non-zero exit status, never a traceback (set ``CSDOMAIN_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from csdomain.errors import CsDomainError


__all__ = ["DEFAULT_STORE", "Progress", "main"]

#: The embedded default store: a SQLite file in the working directory.
DEFAULT_STORE = "sqlite:///csdomain.db"


class Progress:
    """A dependency-free progress bar on stderr, shown only for work longer than a second."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more units of work as done."""
        self.done = min(self.total, self.done + amount)
        now = time.monotonic()
        if now - self.started < 1.0 or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._draw()

    def _draw(self) -> None:
        if not self.stream.isatty() and self._drawn and self.done < self.total:
            return
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        percent = 100 * self.done / self.total
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(f"{self.label:<22} [{bar}] {percent:5.1f}%{end}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Finish the bar (only drawn if it was ever shown)."""
        self.done = self.total
        if self._drawn:
            self._draw()
            if self.stream.isatty():
                self.stream.write("\n")


def _add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=os.environ.get("CSDOMAIN_STORE", DEFAULT_STORE),
        metavar="URL",
        help=f"store URL (default: $CSDOMAIN_STORE or {DEFAULT_STORE})",
    )


def _cmd_plugins(args: argparse.Namespace) -> int:
    from csdomain.plugins import list_plugins  # noqa: PLC0415 - keep --help fast

    infos = list_plugins()
    if args.json:
        print(json.dumps([info.__dict__ | {"hooks": list(info.hooks)} for info in infos], indent=2))
        return 0
    rows = [(i.name, i.version or "-", ", ".join(i.hooks)) for i in infos]
    _print_table(("plugin", "version", "hooks"), rows)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from csdomain.demo import build_demo  # noqa: PLC0415 - heavy imports only when used
    from csdomain.store import open_store  # noqa: PLC0415

    store = open_store(args.store)
    try:
        summary = build_demo(store, size=args.size, seed=args.seed, progress=Progress)
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(f"demo store: {args.store}")
        _print_table(("what", "count"), [(k, str(v)) for k, v in summary.items()])
    return 0


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


Handler = Callable[[argparse.Namespace], int]


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
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    plugins = sub.add_parser(
        "plugins",
        help="list loaded plugins, their versions and hooks",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  csdomain plugins\n  csdomain plugins --json\n",
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_cmd_plugins)

    demo = sub.add_parser(
        "demo",
        help="create a realistic demo data set",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain demo\n"
            "  csdomain demo --size medium --seed 7\n"
            "  csdomain demo --store sqlite:///demo.db --json\n"
        ),
    )
    _add_store_option(demo)
    demo.add_argument("--size", choices=("small", "medium", "large"), default="small")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(handler=_cmd_demo)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
