"""``csdomain plugins``: the loaded plugins, their versions and hooks."""

from __future__ import annotations

import argparse
import json

import attrs

from csdomain.cli._common import Subcommands, print_table


__all__ = ["add_plugins_command"]


def _cmd_plugins(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.plugins import list_plugins  # noqa: PLC0415

    infos = list_plugins()
    if args.json:
        print(json.dumps([attrs.asdict(info) for info in infos], indent=2))
        return 0
    rows = [(i.name, i.version or "-", ", ".join(i.hooks)) for i in infos]
    print_table(("plugin", "version", "hooks"), rows)
    return 0


def add_plugins_command(subparsers: Subcommands) -> None:
    """Add ``csdomain plugins`` to the CLI's subparsers."""
    plugins = subparsers.add_parser(
        "plugins",
        help="list loaded plugins, their versions and hooks",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  csdomain plugins\n  csdomain plugins --json\n",
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.set_defaults(handler=_cmd_plugins)
