"""``csdomain plugins``: the loaded plugins, their versions and hooks, and the broken ones."""

from __future__ import annotations

import argparse
import json

import attrs

from csdomain.cli._common import Subcommands, print_table


__all__ = ["add_plugins_command"]


def _cmd_plugins(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.plugins import broken_plugins, list_plugins  # noqa: PLC0415

    infos = list_plugins()
    broken = broken_plugins()
    if args.json:
        listed = [{**attrs.asdict(info), "status": "loaded"} for info in infos]
        listed += [
            {
                "name": b.name,
                "version": b.version,
                "distribution": b.distribution,
                "hooks": [],
                "status": "broken",
                "target": b.target,
                "error": b.error,
                "disable": b.disable,
            }
            for b in broken
        ]
        print(json.dumps(listed, indent=2))
        return 0
    rows = [(i.name, i.version or "-", "loaded", ", ".join(i.hooks)) for i in infos]
    rows += [(b.name, b.version or "-", "broken", "-") for b in broken]
    print_table(("plugin", "version", "status", "hooks"), rows)
    for b in broken:
        origin = " ".join(part for part in (b.distribution, b.version) if part) or "unknown"
        print(f"\nbroken: {b.name} ({b.target}, from {origin})")
        print(f"  {b.error}")
        print(f"  disable it with {b.disable}, or uninstall {b.distribution or 'its package'}")
    return 0


def add_plugins_command(subparsers: Subcommands) -> None:
    """Add ``csdomain plugins`` to the CLI's subparsers."""
    plugins = subparsers.add_parser(
        "plugins",
        help="list loaded plugins, their versions and hooks, and broken ones",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain plugins\n"
            "  csdomain plugins --json\n"
            "  CSDOMAIN_DISABLED_PLUGINS=name csdomain plugins   leave a plugin out\n"
        ),
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_cmd_plugins)
