"""``csdomain dispatch``: relay the outbox and deliver due messages (retry, dead letter).

The notification policy of a run is the default, then the config file's
``[notifications]`` table, then the options (``--lease``, ``--channel KIND=CHANNEL``,
``--rate-limit CHANNEL=RATE/BURST`` ...). It ends with what is still held and when the
next message is due.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from csdomain.cli._common import (
    Subcommands,
    add_store_option,
    cli_actor,
    is_quiet,
    output_file,
    positive_count,
    refuse_in_memory_store,
    require_existing_store,
)
from csdomain.cli.outbox import print_outbox_summary, summary_json
from csdomain.errors import ValidationError


if TYPE_CHECKING:
    from csdomain.desk.notifications import Dispatcher, DispatchSummary
    from csdomain.notify import NotificationPolicy
    from csdomain.store import Store


__all__ = ["add_dispatch_command", "dispatch_policy"]

_EPILOG = """\
examples:
  csdomain dispatch --once
  csdomain dispatch --loop --interval 5
  csdomain dispatch --loop --rounds 10 --json
  csdomain dispatch --loop --config csdomain.toml
  csdomain dispatch --loop --lease 600 --max-attempts 8 --channel order_shipped=robot \\
      --concurrency robot=4 --rate-limit robot=0.33/20
  MAIL_PW=... csdomain dispatch --loop \\
      --smtp 'smtp://cs@mail.example.com:587?from=cs@example.com&starttls=1' \\
      --smtp-password-env MAIL_PW
  HOOK_SECRET=... csdomain dispatch --once \\
      --webhook https://erp.example.com/hooks/cs --webhook-secret-env HOOK_SECRET
  csdomain dispatch --once --sms-file -          # show the texts instead of sending
  CSDOMAIN_SMS_SECRET=... csdomain dispatch --loop --sms-gateway https://sms.example.com/send

The log notifier (channel "log") is built in. Secrets come from the
environment and are never printed. The config file (--config, else
$CSDOMAIN_CONFIG) holds [notifications] policy values and the [plugins.NAME]
settings entry-point notifiers read; options given here win over it.
A store file that does not exist is refused unless --create-store is given.
"""


def _secret_from_env(name: str, option: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ValidationError.at(option, f"the environment variable {name} is not set")
    return value


def _dispatch_notifiers(args: argparse.Namespace) -> list[object]:
    """The notifiers ``--smtp`` and ``--webhook`` ask for (secrets read from the environment)."""
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.notifiers import (  # noqa: PLC0415
        SmsFileNotifier,
        SmsGatewayNotifier,
        SmtpNotifier,
        WebhookNotifier,
    )

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
    if args.sms_gateway and args.sms_file:
        raise ValidationError.at("--sms-file", "give --sms-file or --sms-gateway, not both")
    if args.sms_gateway:
        if urlsplit(args.sms_gateway).scheme not in ("http", "https"):
            raise ValidationError.at("--sms-gateway", "expected an http(s):// URL")
        secret = _secret_from_env(args.sms_secret_env, "--sms-secret-env")
        notifiers.append(SmsGatewayNotifier(args.sms_gateway, secret))
    if args.sms_file:
        # checked now, not at the first delivery hours later (every text would fail)
        output_file(args.sms_file, "--sms-file")
        notifiers.append(SmsFileNotifier(args.sms_file))
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


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` option values, checked."""
    pairs = []
    for raw in values or ():
        name, sep, value = raw.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValidationError.at(option, f"expected NAME=VALUE, got {raw!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _number(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError.at(option, f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValidationError.at(option, f"must be a positive number, got {text!r}")
    return value


def _policy_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The ``[notifications]`` values the options set (the converter's form)."""
    overrides: dict[str, Any] = {}
    for option, field in (
        ("lease", "lease"),
        ("backoff_base", "backoff_base"),
        ("backoff_cap", "backoff_cap"),
    ):
        value = getattr(args, option)
        if value is not None:
            overrides[field] = _number(str(value), f"--{option.replace('_', '-')}")
    if args.backoff_factor is not None:
        overrides["backoff_factor"] = str(args.backoff_factor)
    if args.max_attempts is not None:
        overrides["max_attempts"] = args.max_attempts
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    channels = dict(_pairs(args.channel, "--channel"))
    if channels:
        overrides["channels"] = channels
    limits: dict[str, dict[str, Any]] = {}
    for channel, value in _pairs(args.concurrency, "--concurrency"):
        if not value.isdigit():
            raise ValidationError.at("--concurrency", f"expected CHANNEL=N, got {value!r}")
        limits.setdefault(channel, {})["concurrency"] = int(value)
    for channel, value in _pairs(args.rate_limit, "--rate-limit"):
        rate, _, burst = value.partition("/")
        _number(rate, "--rate-limit")
        limits.setdefault(channel, {})["rate"] = rate
        if burst:
            if not burst.isdigit():
                raise ValidationError.at("--rate-limit", f"expected RATE[/BURST], got {value!r}")
            limits[channel]["burst"] = int(burst)
    if limits:
        overrides["channel_limits"] = limits
    return overrides


def dispatch_policy(args: argparse.Namespace) -> NotificationPolicy:
    """The notification policy of a ``dispatch`` run: defaults, config file, then options."""
    from csdomain.notify import NotificationPolicy  # noqa: PLC0415
    from csdomain.notify.policy import policy_with  # noqa: PLC0415
    from csdomain.plugins import read_config  # noqa: PLC0415

    config = read_config()
    table = config.get("notifications", {})
    if not isinstance(table, dict):
        raise ValidationError.at("notifications", "expected a table of policy values")
    configured = policy_with(NotificationPolicy(), table)
    try:
        return policy_with(configured, _policy_overrides(args))
    except ValidationError as err:
        # a value the options gave: a usage error naming the option, not the policy field
        raise ValidationError(
            [(_option_of(path), message) for path, message in err.errors]
        ) from None


#: The option that sets each ``[notifications]`` field (``channel_limits`` by its key).
_OPTION_OF_FIELD = {
    "lease": "--lease",
    "backoff_base": "--backoff-base",
    "backoff_factor": "--backoff-factor",
    "backoff_cap": "--backoff-cap",
    "max_attempts": "--max-attempts",
    "batch_size": "--batch-size",
    "channels": "--channel",
    "concurrency": "--concurrency",
    "rate": "--rate-limit",
    "burst": "--rate-limit",
}


def _option_of(path: str) -> str:
    """The option behind a policy error's path (``notifications.max_attempts`` ->
    ``--max-attempts``, ``notifications.channel_limits.sms.rate`` -> ``--rate-limit``)."""
    parts = path.split(".")
    if parts and parts[0] == "notifications":
        parts = parts[1:]
    if not parts:
        return path
    field = parts[-1] if parts[0] == "channel_limits" else parts[0]
    return _OPTION_OF_FIELD.get(field, path)


def _run(dispatcher: Dispatcher, args: argparse.Namespace) -> tuple[int, DispatchSummary]:
    """``--once`` or ``--loop``: the rounds run and their totals."""
    if args.once:
        return 1, dispatcher.run_once()
    rounds = 0
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
    return rounds, total


def _cmd_dispatch(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.desk.notifications import Dispatcher, NotificationDesk  # noqa: PLC0415
    from csdomain.plugins import default_plugin_manager, use_config_file  # noqa: PLC0415
    from csdomain.policy import Policy  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    if args.interval < 0:
        raise ValidationError.at("--interval", "must not be negative")
    if args.rounds is not None and (args.once or args.rounds < 1):
        raise ValidationError.at("--rounds", "needs --loop and a positive number")
    if args.config is not None:
        use_config_file(args.config)
    policy = dispatch_policy(args)
    refuse_in_memory_store(args.store)
    if not args.create_store:
        require_existing_store(args.store, create_option="--create-store")
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
        dispatcher = Dispatcher(store, pm, store.clock, policy=policy, worker_id=args.worker_id)
        desk = NotificationDesk(store, policy=Policy(notifications=policy), plugin_manager=pm)
        if not args.json:
            print(f"worker: {dispatcher.worker_id}")
            for notifier in notifiers:
                print(f"notifier: {notifier!r}")
        released = dispatcher.release_stale_claims()
        if released and not args.json:
            print(f"released {released} claim(s) of dispatchers that are gone")
        rounds, total = _run(dispatcher, args)
        summary = desk.outbox_summary(by=cli_actor())
        unhandled = unhandled_channels(store)
    finally:
        store.close()
        for name in names:
            pm.unregister(name=name)
    if args.json:
        print(
            json.dumps(
                {
                    "rounds": rounds,
                    **attrs.asdict(total),
                    "released": released,
                    "outbox": summary_json(summary),
                }
            )
        )
    else:
        print(f"dispatch ({rounds} round(s)): {total.describe()}")
        print_outbox_summary(summary)
    for channel, count in sorted(unhandled.items()):
        if not is_quiet(args):
            print(_unhandled_hint(channel, count), file=sys.stderr)
    return 0


#: The start of the error a message gets when no notifier handles its channel.
_NO_NOTIFIER = "no notifier handles channel"

#: How many failed messages the hint looks at, at most (it only counts them per channel).
_HINT_SCAN = 10_000


def unhandled_channels(store: Store) -> dict[str, int]:
    """Waiting or dead messages whose last attempt failed because no notifier handles
    their channel, counted per channel (at most :data:`_HINT_SCAN` looked at). Read
    without the desk: only the channel and the error are seen, no personal data."""
    from csdomain.kinds import MESSAGES  # noqa: PLC0415
    from csdomain.notify import MessageStatus  # noqa: PLC0415

    counts: dict[str, int] = {}
    with store.unit_of_work(readonly=True) as uow:
        repo = uow.repo(MESSAGES)
        for status in (MessageStatus.PENDING, MessageStatus.DEAD):
            for message in repo.scan(status=status, limit=_HINT_SCAN):
                if (message.last_error or "").startswith(_NO_NOTIFIER):
                    counts[message.channel] = counts.get(message.channel, 0) + 1
    return counts


def _unhandled_hint(channel: str, count: int) -> str:
    """What to do about messages on a channel no notifier handles."""
    head = f"csdomain: {count} message(s) on channel {channel!r} failed: no notifier handles it"
    if channel == "sms":
        return f"{head}; --sms-file - prints them (development), --sms-gateway URL sends them"
    return f"{head}; install or configure a notifier for it (csdomain plugins lists them)"


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
    dispatch.add_argument(
        "--sms-gateway",
        metavar="URL",
        help='POST "sms" messages, signed like webhooks, to this SMS gateway',
    )
    dispatch.add_argument(
        "--sms-secret-env",
        metavar="NAME",
        default="CSDOMAIN_SMS_SECRET",
        help="environment variable with the gateway's signing secret (default CSDOMAIN_SMS_SECRET)",
    )
    dispatch.add_argument(
        "--sms-file",
        metavar="FILE",
        help='write "sms" messages as JSON lines to FILE instead of sending them '
        "(- for the console; development)",
    )
    dispatch.add_argument(
        "--worker-id",
        metavar="ID",
        help="this dispatcher's name in claims (default host:pid:random); unique per running "
        "dispatcher: at start, claims held under it are released as left by a crash",
    )
    dispatch.add_argument(
        "--create-store",
        action="store_true",
        help="create the store file if it does not exist (else a typo is refused)",
    )
    policy = dispatch.add_argument_group(
        "policy", "override the notification policy (the config file's [notifications])"
    )
    policy.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML config file: [notifications] and [plugins.NAME] (default $CSDOMAIN_CONFIG)",
    )
    policy.add_argument("--lease", metavar="SECONDS", help="how long a claim lasts")
    policy.add_argument(
        "--max-attempts", type=positive_count, metavar="N", help="attempts before dead letter"
    )
    policy.add_argument("--backoff-base", metavar="SECONDS", help="wait after a first failure")
    policy.add_argument("--backoff-factor", metavar="X", help="growth of the wait per attempt")
    policy.add_argument("--backoff-cap", metavar="SECONDS", help="longest wait between attempts")
    policy.add_argument("--batch-size", type=positive_count, metavar="N", help="messages per query")
    policy.add_argument(
        "--channel",
        action="append",
        metavar="KIND=CHANNEL",
        help="send messages of KIND on CHANNEL (repeatable)",
    )
    policy.add_argument(
        "--concurrency",
        action="append",
        metavar="CHANNEL=N",
        help="deliver N messages of CHANNEL at once (repeatable; default 16)",
    )
    policy.add_argument(
        "--rate-limit",
        action="append",
        metavar="CHANNEL=RATE[/BURST]",
        help="at most RATE messages per second on CHANNEL, BURST at once (repeatable)",
    )
    dispatch.add_argument("--json", action="store_true", help="print the totals as JSON")
    dispatch.set_defaults(handler=_cmd_dispatch)
