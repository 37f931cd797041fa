"""``csdomain dispatch``: relay the outbox and deliver due messages (retry, dead letter)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import attrs

from csdomain.cli._common import Subcommands, add_store_option
from csdomain.errors import ValidationError


if TYPE_CHECKING:
    from csdomain.desk.notifications import DispatchSummary


__all__ = ["add_dispatch_command"]

_EPILOG = """\
examples:
  csdomain dispatch --once
  csdomain dispatch --loop --interval 5
  csdomain dispatch --loop --rounds 10 --json
  MAIL_PW=... csdomain dispatch --loop \\
      --smtp 'smtp://cs@mail.example.com:587?from=cs@example.com&starttls=1' \\
      --smtp-password-env MAIL_PW
  HOOK_SECRET=... csdomain dispatch --once \\
      --webhook https://erp.example.com/hooks/cs --webhook-secret-env HOOK_SECRET

The log notifier (channel "log") is built in. Secrets come from the
environment and are never printed.
"""


def _secret_from_env(name: str, option: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ValidationError.at(option, f"the environment variable {name} is not set")
    return value


def _dispatch_notifiers(args: argparse.Namespace) -> list[object]:
    """The notifiers ``--smtp`` and ``--webhook`` ask for (secrets read from the environment)."""
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
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
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.desk.notifications import Dispatcher  # noqa: PLC0415
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


def add_dispatch_command(subparsers: Subcommands) -> None:
    """Add ``csdomain dispatch`` to the CLI's subparsers."""
    dispatch = subparsers.add_parser(
        "dispatch",
        help="relay the outbox and deliver due messages (retry, dead letter)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Relay outbox events into messages, then deliver the messages that are due\n"
            "through the installed notifiers. Several dispatchers may share one store."
        ),
        epilog=_EPILOG,
    )
    add_store_option(dispatch)
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
