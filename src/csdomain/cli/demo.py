"""``csdomain demo``: build the demo data set in a store."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from collections.abc import Mapping

from csdomain.cli._common import (
    DEFAULT_STORE,
    Progress,
    Subcommands,
    add_store_option,
    in_memory_store,
    new_sqlite_file,
    print_table,
)


__all__ = ["add_demo_command", "render_summary"]


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
        print(render_summary(summary, args.store))
    return 0


def render_summary(summary: Mapping[str, int], store: str) -> str:
    """The demo's summary as text: what it built, the rules at work, what to try next.

    The refusals (keys of :func:`csdomain.demo.refusal_key`) are the business rules
    saying no to steps the demo tries on purpose, so they are told as such, not as errors.
    """
    from csdomain.demo import REFUSALS, split_refusal_key  # noqa: PLC0415

    counts: list[tuple[str, str]] = []
    refusals: list[str] = []
    for key, value in summary.items():
        refused = split_refusal_key(key)
        if refused is None:
            counts.append((key.replace("_", " "), str(value)))
            continue
        step, code = refused
        tried = REFUSALS.get(refused, step)
        times = "once" if value == 1 else f"{value} times"
        refusals.append(f"  the rules refused: {tried} ({code}) {times} \N{EM DASH} as designed")
    out = io.StringIO()
    print(f"demo store: {store}", file=out)
    with contextlib.redirect_stdout(out):
        print_table(("what", "count"), counts)
    if refusals:
        print("\nThe rules at work (steps the demo tries on purpose):", file=out)
        print("\n".join(refusals), file=out)
    if in_memory_store(store):
        print(
            f"\n{store} is an in-memory store: the demo is gone now that the command ended."
            f"\nBuild it in a file to look at it: csdomain demo --store {DEFAULT_STORE}",
            file=out,
        )
        return out.getvalue().rstrip("\n")
    shown = "" if store == DEFAULT_STORE else f" --store {store}"
    print("\nWhat to try next:", file=out)
    for command, what in (
        (f"csdomain report{shown} --html report.html", "the operations report, in a browser"),
        (f"csdomain outbox{shown}", "the messages the demo queued for customers"),
        (f"csdomain dispatch{shown} --once --sms-file -", "deliver them, the SMS printed here"),
        ("docs/quickstart.md", "a first app of your own, step by step"),
    ):
        print(f"  {what}:\n      {command}", file=out)
    return out.getvalue().rstrip("\n")


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
