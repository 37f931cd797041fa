"""``csdomain outbox``: list queued or dead-lettered messages; retry or cancel one."""

from __future__ import annotations

import argparse
import json
from datetime import UTC
from typing import Any

from csdomain.cli._common import Subcommands, add_store_option, cli_actor, print_table


__all__ = ["add_outbox_command"]

_EPILOG = """\
examples:
  csdomain outbox                      messages waiting to be sent
  csdomain outbox --status dead        dead letters with their last error
  csdomain outbox --status all --json
  csdomain outbox retry msg-0123456789abcdef01234567
  csdomain outbox cancel msg-0123456789abcdef01234567 --reason 'customer asked'
"""


def _moment(value: Any) -> str:
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def _cmd_outbox(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.desk.notifications import NotificationDesk  # noqa: PLC0415
    from csdomain.serialization import to_json  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    store = open_store(args.store)
    try:
        desk = NotificationDesk(store)
        actor = cli_actor()
        if args.action == "retry":
            message = desk.retry_message(args.message_id, by=actor)
            print(f"requeued {message.id}: next attempt {_moment(message.next_attempt_at)}")
            return 0
        if args.action == "cancel":
            message = desk.cancel_message(args.message_id, reason=args.reason, by=actor)
            print(f"cancelled {message.id}: {args.reason}")
            return 0
        messages = desk.outbox(by=actor, status=args.status, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps([json.loads(to_json(m)) for m in messages], indent=2))
        return 0
    if not messages:
        print(f"no {args.status} messages" if args.status != "all" else "no messages")
        return 0
    rows = [
        (
            m.id,
            str(m.status),
            m.kind,
            m.channel,
            m.recipient,
            str(m.attempts),
            _moment(m.due_at),
            (m.last_error or "")[:60],
        )
        for m in messages
    ]
    print_table(
        ("id", "status", "kind", "channel", "recipient", "tries", "due", "last error"), rows
    )
    if len(messages) == args.limit:
        print(f"(first {args.limit}; use --limit to see more)")
    return 0


def add_outbox_command(subparsers: Subcommands) -> None:
    """Add ``csdomain outbox`` (with its ``retry`` and ``cancel`` actions) to the subparsers."""
    outbox = subparsers.add_parser(
        "outbox",
        help="list queued or dead-lettered messages; retry or cancel one",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    add_store_option(outbox)
    outbox.add_argument(
        "--status",
        choices=("pending", "claimed", "dead", "delivered", "cancelled", "all"),
        default="pending",
        help="which messages to list (default pending)",
    )
    outbox.add_argument(
        "--limit", type=int, default=100, metavar="N", help="list at most N (default 100)"
    )
    outbox.add_argument("--json", action="store_true", help="print the messages as JSON")
    actions = outbox.add_subparsers(dest="action", metavar="ACTION")
    retry = actions.add_parser(
        "retry",
        help="send a dead-lettered message again",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  csdomain outbox retry msg-0123456789abcdef01234567\n",
    )
    retry.add_argument("message_id", metavar="ID", help="the message id (see csdomain outbox)")
    cancel = actions.add_parser(
        "cancel",
        help="withdraw a pending or dead-lettered message",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain outbox cancel msg-0123456789abcdef01234567 --reason 'wrong number'\n"
        ),
    )
    cancel.add_argument("message_id", metavar="ID", help="the message id (see csdomain outbox)")
    cancel.add_argument("--reason", required=True, help="why (kept in the message history)")
    for action in (retry, cancel):
        action.add_argument(
            "--store", default=argparse.SUPPRESS, metavar="URL", help="store URL (as for outbox)"
        )
    outbox.set_defaults(handler=_cmd_outbox)
