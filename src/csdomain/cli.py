"""The ``csdomain`` command line: demo data, plugin listing, dispatching, reports.

Every command has ``--help`` with examples. Errors are one clear line on stderr and a
non-zero exit status, never a traceback (set ``CSDOMAIN_DEBUG=1`` to see one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

import attrs

from csdomain.errors import BackendUnavailable, CsDomainError


if TYPE_CHECKING:
    from csdomain.auth import Actor


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


def require_existing_store(url: str) -> None:
    """Refuse a SQLite file that does not exist: opening it would create an empty store."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc:
        return
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if path in ("", ":memory:"):
        return
    if not Path(path).exists():
        msg = f"no store at {url}: {path} does not exist (csdomain demo --store {url} builds one)"
        raise BackendUnavailable(msg)


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
        print(json.dumps([attrs.asdict(info) for info in infos], indent=2))
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


def _cli_actor() -> Actor:
    """The actor the command line acts as (the operator's login name, system role)."""
    from csdomain.auth import Actor  # noqa: PLC0415

    user = os.environ.get("USER") or os.environ.get("USERNAME") or "operator"
    return Actor.system(f"cli:{user}")


def _secret_from_env(name: str, option: str) -> str:
    from csdomain.errors import ValidationError  # noqa: PLC0415

    value = os.environ.get(name, "")
    if not value:
        raise ValidationError.at(option, f"the environment variable {name} is not set")
    return value


def _dispatch_notifiers(args: argparse.Namespace) -> list[object]:
    """The notifiers ``--smtp`` and ``--webhook`` ask for (secrets read from the environment)."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    import attrs  # noqa: PLC0415

    from csdomain.errors import ValidationError  # noqa: PLC0415
    from csdomain.notifiers import SmtpNotifier, WebhookNotifier  # noqa: PLC0415

    notifiers: list[object] = []
    if args.smtp:
        smtp = SmtpNotifier.from_url(args.smtp)
        if args.smtp_password_env:
            password = _secret_from_env(args.smtp_password_env, "--smtp-password-env")
            smtp = SmtpNotifier(attrs.evolve(smtp.settings, password=password))
        notifiers.append(smtp)
    if args.webhook:
        if urlsplit(args.webhook).scheme not in ("http", "https"):
            raise ValidationError.at("--webhook", "expected an http(s):// URL")
        secret = _secret_from_env(args.webhook_secret_env, "--webhook-secret-env")
        notifiers.append(WebhookNotifier(secret, url=args.webhook))
    return notifiers


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM finish the current round and stop; a second Ctrl-C interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()
        signal.signal(signum, previous[signal.Signals(signum)])

    for sig in previous:
        signal.signal(sig, request_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cmd_dispatch(args: argparse.Namespace) -> int:
    import attrs  # noqa: PLC0415

    from csdomain.desk.notifications import Dispatcher, DispatchSummary  # noqa: PLC0415
    from csdomain.errors import ValidationError  # noqa: PLC0415
    from csdomain.plugins import default_plugin_manager  # noqa: PLC0415
    from csdomain.policy import Policy  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    if args.interval < 0:
        raise ValidationError.at("--interval", "must not be negative")
    if args.rounds is not None and (args.once or args.rounds < 1):
        raise ValidationError.at("--rounds", "needs --loop and a positive number")
    notifiers = _dispatch_notifiers(args)
    pm = default_plugin_manager()
    names = [name for name in (pm.register(n) for n in notifiers) if name is not None]
    try:
        store = open_store(args.store)
    except BaseException:
        for name in names:
            pm.unregister(name=name)
        raise
    try:
        dispatcher = Dispatcher(store, pm, store.clock, policy=Policy().notifications)
        if not args.json:
            for notifier in notifiers:
                print(f"notifier: {notifier!r}")
        rounds = 0
        if args.once:
            total = dispatcher.run_once()
            rounds = 1
        else:
            stop = threading.Event()

            def report(summary: DispatchSummary) -> None:
                nonlocal rounds
                rounds += 1
                if not summary.idle and not args.json:
                    print(f"round {rounds}: {summary.describe()}", flush=True)

            with _stop_on_signals(stop):
                total = dispatcher.run_forever(
                    args.interval, stop=stop, max_rounds=args.rounds, on_round=report
                )
    finally:
        store.close()
        for name in names:
            pm.unregister(name=name)
    if args.json:
        print(json.dumps({"rounds": rounds, **attrs.asdict(total)}))
    else:
        print(f"dispatch ({rounds} round(s)): {total.describe()}")
    return 0


def _moment(value: Any) -> str:
    return "-" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def _cmd_outbox(args: argparse.Namespace) -> int:
    from csdomain.desk.notifications import NotificationDesk  # noqa: PLC0415
    from csdomain.serialization import to_json  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    store = open_store(args.store)
    try:
        desk = NotificationDesk(store)
        actor = _cli_actor()
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
    _print_table(
        ("id", "status", "kind", "channel", "recipient", "tries", "due", "last error"), rows
    )
    if len(messages) == args.limit:
        print(f"(first {args.limit}; use --limit to see more)")
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
            "  csdomain report --html report.html the monthly operations review\n"
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

    from csdomain.cli_transfer import add_export_command, add_import_command  # noqa: PLC0415
    from csdomain.report_cli import add_report_command  # noqa: PLC0415 - avoids a cycle

    add_report_command(sub)
    add_export_command(sub)
    add_import_command(sub)

    dispatch = sub.add_parser(
        "dispatch",
        help="relay the outbox and deliver due messages (retry, dead letter)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Relay outbox events into messages, then deliver the messages that are due\n"
            "through the installed notifiers. Several dispatchers may share one store."
        ),
        epilog=(
            "examples:\n"
            "  csdomain dispatch --once\n"
            "  csdomain dispatch --loop --interval 5\n"
            "  csdomain dispatch --loop --rounds 10 --json\n"
            "  MAIL_PW=... csdomain dispatch --loop \\\n"
            "      --smtp 'smtp://cs@mail.example.com:587?from=cs@example.com&starttls=1' \\\n"
            "      --smtp-password-env MAIL_PW\n"
            "  HOOK_SECRET=... csdomain dispatch --once \\\n"
            "      --webhook https://erp.example.com/hooks/cs --webhook-secret-env HOOK_SECRET\n"
            "\n"
            'The log notifier (channel "log") is built in. Secrets come from the\n'
            "environment and are never printed.\n"
        ),
    )
    _add_store_option(dispatch)
    mode = dispatch.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="run one round and exit")
    mode.add_argument("--loop", action="store_true", help="keep running (Ctrl-C stops)")
    dispatch.add_argument(
        "--interval",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="wait after a round that found nothing to do (default 5)",
    )
    dispatch.add_argument(
        "--rounds", type=int, default=None, metavar="N", help="with --loop: stop after N rounds"
    )
    dispatch.add_argument(
        "--smtp", metavar="URL", help='deliver "email" messages through this SMTP server'
    )
    dispatch.add_argument(
        "--smtp-password-env", metavar="NAME", help="environment variable with the SMTP password"
    )
    dispatch.add_argument(
        "--webhook", metavar="URL", help='POST "webhook" messages, signed, to this URL'
    )
    dispatch.add_argument(
        "--webhook-secret-env",
        metavar="NAME",
        default="CSDOMAIN_WEBHOOK_SECRET",
        help="environment variable with the signing secret (default CSDOMAIN_WEBHOOK_SECRET)",
    )
    dispatch.add_argument("--json", action="store_true", help="print the totals as JSON")
    dispatch.set_defaults(handler=_cmd_dispatch)

    outbox = sub.add_parser(
        "outbox",
        help="list queued or dead-lettered messages; retry or cancel one",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            "  csdomain outbox                      messages waiting to be sent\n"
            "  csdomain outbox --status dead        dead letters with their last error\n"
            "  csdomain outbox --status all --json\n"
            "  csdomain outbox retry msg-0123456789abcdef01234567\n"
            "  csdomain outbox cancel msg-0123456789abcdef01234567 --reason 'customer asked'\n"
        ),
    )
    _add_store_option(outbox)
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
