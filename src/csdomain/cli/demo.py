"""``csdomain demo``: build the demo data set in a store."""

from __future__ import annotations

import argparse
import json

from csdomain.cli._common import (
    Progress,
    Subcommands,
    add_store_option,
    new_sqlite_file,
    print_table,
)


__all__ = ["add_demo_command"]


def _cmd_demo(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.demo import build_demo  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    # built in a temporary file renamed at the end: Ctrl-C leaves no half-built store
    with new_sqlite_file(args.store) as url:
        store = open_store(url)
        try:
            summary = build_demo(store, size=args.size, seed=args.seed, progress=Progress)
        finally:
            store.close()
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(f"demo store: {args.store}")
        print_table(("what", "count"), [(k, str(v)) for k, v in summary.items()])
    return 0


def add_demo_command(subparsers: Subcommands) -> None:
    """Add ``csdomain demo`` to the CLI's subparsers."""
    demo = subparsers.add_parser(
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
    add_store_option(demo)
    demo.add_argument("--size", choices=("small", "medium", "large"), default="small")
    demo.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(handler=_cmd_demo)
