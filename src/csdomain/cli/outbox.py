"""``csdomain outbox``: the operator's view of the outbox; retry, cancel or show messages."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from csdomain.cli._common import (
    Subcommands,
    add_operator_option,
    add_store_option,
    cli_actor,
    positive_count,
    print_table,
    require_existing_store,
)
from csdomain.errors import CsDomainError, ValidationError


if TYPE_CHECKING:
    from csdomain.desk.notifications import NotificationDesk, OutboxSummary
    from csdomain.notify import Message


__all__ = ["add_outbox_command", "describe_wait", "print_outbox_summary"]

_EPILOG = """\
examples:
  csdomain outbox                              counts, then the messages waiting to be sent
  csdomain outbox --status dead --channel sms  dead SMS letters with their last error
  csdomain outbox --status dead --wide         the whole error text
  csdomain outbox --customer C-1 --status all --json
  csdomain outbox --counts --json              counts per status, held by reason, next due
  csdomain outbox show msg-0123456789abcdef01234567
  csdomain outbox retry msg-0123456789abcdef01234567 --by wang.fang
  csdomain outbox retry --dead --channel sms   every dead SMS letter at once
  csdomain outbox cancel msg-0123456789abcdef01234567 --reason 'customer asked' --by wang.fang

The operator (--by, else $CSDOMAIN_OPERATOR, else cli:$USER) is kept in the history.
The command line acts without customer.read: a customer's address and personal data in
the texts read [masked] (still stored, only hidden); [erased] means an erasure removed them.
"""

#: How much of an error the table shows without --wide.
_ERROR_WIDTH = 60


def _moment(value: datetime | None) -> str:
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z"


def describe_wait(message: Message, at: datetime) -> str:
    """What a message is doing at ``at``, for people: why and until when it waits, who
    delivers it since when (and whether that claim is stale), when it ended."""
    from csdomain.desk.notifications import claim_state  # noqa: PLC0415
    from csdomain.notify import MessageStatus  # noqa: PLC0415

    status = message.status
    if status is MessageStatus.PENDING:
        due = message.due_at
        if due is None or due <= at:
            resting = message.resting_until(at)
            if resting is not None:
                return f"due, held for rest hours until {_moment(resting)}"
            return "due now"
        reason = message.waiting_for.value.replace("_", " ") if message.waiting_for else "wait"
        return f"{reason} until {_moment(due)}"
    if status is MessageStatus.CLAIMED:
        text = (
            f"by {message.claimed_by} since {_moment(message.claimed_since)}, "
            f"lease until {_moment(message.lease_until)}"
        )
        state = claim_state(message, at)
        if state == "expired":
            return f"STALE (lease expired) {text}"
        if state == "worker gone":
            return f"STALE (worker gone) {text}"
        return text
    ended = message.history[-1].at if message.history else None
    if status is MessageStatus.DELIVERED:
        return f"delivered {_moment(message.delivered_at)}"
    if status is MessageStatus.DEAD:
        return f"dead since {_moment(ended)}"
    return f"cancelled {_moment(ended)}"


def print_outbox_summary(summary: OutboxSummary) -> None:
    """The counts line and the next due moment."""
    print(f"outbox at {_moment(summary.at)}: {summary.describe()}")
    print(f"next due: {_moment(summary.next_due)}")


def summary_json(summary: OutboxSummary) -> dict[str, Any]:
    """The summary as plain JSON values."""
    return {
        "at": summary.at.isoformat(),
        "counts": dict(summary.counts),
        "waiting": dict(summary.waiting),
        "held": summary.held,
        "due": summary.due,
        "stale": summary.stale,
        "next_due": summary.next_due.isoformat() if summary.next_due else None,
    }


def _error_cell(message: Message, *, wide: bool) -> str:
    error = " ".join((message.last_error or "").split())
    if wide or len(error) <= _ERROR_WIDTH:
        return error
    return error[: _ERROR_WIDTH - 1] + "…"


def _list(desk: NotificationDesk, args: argparse.Namespace) -> int:
    from csdomain.notifiers import redact_secrets  # noqa: PLC0415
    from csdomain.serialization import to_json  # noqa: PLC0415

    actor = cli_actor(args.by)
    summary = desk.outbox_summary(by=actor)
    if args.counts:
        if args.json:
            print(json.dumps(summary_json(summary), indent=2))
        else:
            print_outbox_summary(summary)
        return 0
    filters = {"kind": args.kind, "channel": args.channel, "customer_id": args.customer}
    messages = desk.outbox(by=actor, status=args.status, limit=args.limit, **filters)
    if args.json:
        print(json.dumps([json.loads(to_json(m)) for m in messages], indent=2))
        return 0
    print_outbox_summary(summary)
    print()
    if not messages:
        print(f"no {args.status} messages" if args.status != "all" else "no messages")
        return 0
    now = summary.at
    rows = [
        (
            m.id,
            str(m.status),
            m.kind,
            m.channel,
            redact_secrets(m.recipient),
            str(m.attempts),
            describe_wait(m, now),
            _error_cell(m, wide=args.wide),
        )
        for m in messages
    ]
    print_table(
        ("id", "status", "kind", "channel", "recipient", "tries", "state", "last error"), rows
    )
    if not args.wide and any(len(m.last_error or "") > _ERROR_WIDTH for m in messages):
        print("(errors cut at 60 characters: --wide shows them whole, `show ID` all of it)")
    if len(messages) == args.limit:
        print(f"(first {args.limit}; use --limit to see more)")
    return 0


def _show(desk: NotificationDesk, args: argparse.Namespace) -> int:
    from csdomain.notifiers import redact_secrets  # noqa: PLC0415

    message = desk.get_message(args.message_id, by=cli_actor(args.by))
    at = desk.now()
    fields = [
        ("id", message.id),
        ("status", str(message.status)),
        ("state", describe_wait(message, at)),
        ("kind", message.kind),
        ("channel", message.channel),
        ("recipient", redact_secrets(message.recipient)),
        ("customer", message.customer_id or "-"),
        ("urgent", "yes" if message.urgent else "no"),
        ("attempts", str(message.attempts)),
        ("deferrals", str(message.deferrals)),
        ("idempotency key", message.idempotency_key),
        ("created", _moment(message.created_at)),
        ("next attempt", _moment(message.next_attempt_at)),
    ]
    for name, value in fields:
        print(f"{name + ':':<17}{value}")
    if message.last_error:
        print("last error:")
        print(textwrap.fill(message.last_error, 100, initial_indent="  ", subsequent_indent="  "))
    print("history:")
    for change in message.history:
        note = f": {change.note}" if change.note else ""
        print(f"  {_moment(change.at)}  {change.from_} -> {change.to} by {change.by}{note}")
    return 0


def _retry(desk: NotificationDesk, args: argparse.Namespace) -> int:
    actor = cli_actor(args.by)
    if args.dead:
        if args.message_ids:
            raise ValidationError.at("--dead", "give message ids or --dead, not both")
        again = desk.retry_dead_letters(
            by=actor, channel=args.channel, kind=args.kind, limit=args.retry_limit
        )
        scope = " and ".join(
            f"{name} {value}"
            for name, value in (("channel", args.channel), ("kind", args.kind))
            if value
        )
        print(f"requeued {len(again)} dead letter(s){' of ' + scope if scope else ''}")
        return 0
    if not args.message_ids:
        raise ValidationError.at("ID", "name the messages to retry, or --dead for all dead ones")
    failed = 0
    for message_id in args.message_ids:
        try:
            message = desk.retry_message(message_id, by=actor)
        except CsDomainError as err:
            if len(args.message_ids) == 1:
                raise
            failed += 1
            print(f"csdomain: error: not requeued {message_id}: {err}", file=sys.stderr)
            continue
        print(f"requeued {message.id}: next attempt {_moment(message.next_attempt_at)}")
    return 1 if failed else 0


def _cancel(desk: NotificationDesk, args: argparse.Namespace) -> int:
    actor = cli_actor(args.by)
    message = desk.cancel_message(args.message_id, reason=args.reason, by=actor)
    print(f"cancelled {message.id} by {actor.id}: {args.reason}")
    return 0


def _cmd_outbox(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.desk.notifications import NotificationDesk  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    require_existing_store(args.store)
    store = open_store(args.store)
    try:
        desk = NotificationDesk(store)
        action = {"retry": _retry, "cancel": _cancel, "show": _show}.get(args.action, _list)
        return action(desk, args)
    finally:
        store.close()


def _add_filters(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--kind", default=default, metavar="KIND", help="only this kind")
    parser.add_argument("--channel", default=default, metavar="NAME", help="only this channel")


def add_outbox_command(subparsers: Subcommands) -> None:
    """Add ``csdomain outbox`` (with ``show``, ``retry`` and ``cancel``) to the subparsers."""
    outbox = subparsers.add_parser(
        "outbox",
        help="the outbox: counts, waiting and dead messages; show, retry or cancel them",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    add_store_option(outbox)
    add_operator_option(outbox)
    outbox.add_argument(
        "--status",
        choices=("pending", "claimed", "dead", "delivered", "cancelled", "all"),
        default="pending",
        help="which messages to list (default pending)",
    )
    _add_filters(outbox, suppress=False)
    outbox.add_argument("--customer", metavar="ID", help="only messages to this customer")
    outbox.add_argument(
        "--limit",
        type=positive_count,
        default=100,
        metavar="N",
        help="list at most N (default 100)",
    )
    outbox.add_argument("--wide", action="store_true", help="show whole error texts")
    outbox.add_argument(
        "--counts", action="store_true", help="only the counts per status and what waits"
    )
    outbox.add_argument("--json", action="store_true", help="print the messages (or counts)")
    actions = outbox.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="everything about one message: state, whole error, history",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  csdomain outbox show msg-0123456789abcdef01234567\n",
    )
    show.add_argument("message_id", metavar="ID", help="the message id (see csdomain outbox)")
    retry = actions.add_parser(
        "retry",
        help="send dead-lettered messages again (by id, or --dead for all of them)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain outbox retry msg-0123456789abcdef01234567\n"
            "  csdomain outbox retry --dead --channel sms --by wang.fang\n"
            "\nOnly dead letters are retried: a message being delivered or waiting is\n"
            "refused, saying what it is doing.\n"
        ),
    )
    retry.add_argument("message_ids", nargs="*", metavar="ID", help="message ids")
    retry.add_argument("--dead", action="store_true", help="every dead letter (see filters)")
    _add_filters(retry, suppress=True)
    retry.add_argument(
        "--limit",
        dest="retry_limit",
        type=positive_count,
        default=None,
        metavar="N",
        help="at most N",
    )
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
    for action in (show, retry, cancel):
        action.add_argument(
            "--store", default=argparse.SUPPRESS, metavar="URL", help="store URL (as for outbox)"
        )
        add_operator_option(action, suppress=True)
    outbox.set_defaults(handler=_cmd_outbox)
