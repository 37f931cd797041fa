"""``csdomain report``: the command-line side of :mod:`csdomain.report`.

The report module (and with it the service layer) is imported only when the command runs,
so that ``csdomain --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from csdomain.cli._common import (
    Subcommands,
    add_store_option,
    file_error,
    is_quiet,
    output_file,
    require_existing_store,
)
from csdomain.errors import ValidationError


if TYPE_CHECKING:
    from csdomain.i18n import Translator
    from csdomain.report import ClaimRateData


__all__ = ["add_report_command"]

_EPILOG = """\
examples:
  csdomain demo --store sqlite:///demo.db
  csdomain report --store sqlite:///demo.db
  csdomain report --store sqlite:///demo.db --month 2026-09 --html report.html
  csdomain report --json > report.json
  csdomain report --store sqlite:///demo.db --lang en
  csdomain report --service-points points.json

The month defaults to the month of the latest order. Period figures (returns,
complaints, warranty decisions, satisfaction, contact-centre KPIs) count that month
in the order time zone; backlog lists (orders waiting, targets overdue, escalations,
missed follow-up visits) are the state of the store now, or at --as-of (a date: the
end of that day in the order time zone; or an ISO date and time with its offset), e.g.
to read a demo store as it stood when it was built. --html writes one page with
inline SVG charts that opens in any browser without network or JavaScript.
--service-points reads service points' warranty claims and units as JSON:
  {"records": [{"service_point": "SP-1", "region": "east", "period": "2026-09",
                "units": 400, "claims": 12}, ...],
   "quality": [{"period": "2026-09", "defect_rate": "0.01"}]}
"""


def _parse_as_of(value: str) -> date | datetime:
    """``--as-of`` checked before any work: a date, or a date and time with its UTC
    offset (a naive time would mean a different instant on every machine)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        if day == date.max:
            raise ValidationError.at("--as-of", f"no day after {value}")
        return day
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError.at(
            "--as-of", f"expected YYYY-MM-DD or an ISO date and time, got {value!r}"
        ) from None
    if moment.utcoffset() is None:
        raise ValidationError.at(
            "--as-of", f"give the UTC offset of {value!r} (e.g. {value}+08:00), or a date"
        )
    return moment


def _as_of_moment(when: date | datetime, tz: str) -> datetime:
    """The instant of a parsed ``--as-of``: a date is the end of that day in ``tz``."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    if isinstance(when, datetime):
        return when
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError.at("policy.orders.number_tz", f"unknown time zone {tz!r}") from None
    return datetime.combine(when + timedelta(days=1), time(), zone)


def _read_claim_rates(name: str) -> ClaimRateData:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.report import ClaimRateData  # noqa: PLC0415
    from csdomain.serialization import from_json  # noqa: PLC0415

    path = Path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError.at("--service-points", f"file {name} does not exist") from None
    except OSError as err:
        raise ValidationError.at(
            "--service-points", f"cannot read {name}: {err.strerror}"
        ) from None
    try:
        return from_json(ClaimRateData, data)
    except ValidationError as err:
        problems = "; ".join(f"{p or '(document)'}: {m}" for p, m in err.errors[:3])
        raise ValidationError.at("--service-points", f"{name}: {problems}") from None


def _language(tag: str | None) -> Translator | None:
    """The translator ``--lang`` names (``None``: the policy's ``notifications.language``)."""
    from csdomain.i18n import translator  # noqa: PLC0415

    if tag is None:
        return None
    try:
        return translator(tag)
    except ValidationError as err:
        raise ValidationError.at("--lang", err.errors[0][1]) from None


def _cmd_report(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    from csdomain.i18n import translator  # noqa: PLC0415
    from csdomain.report import (  # noqa: PLC0415
        REPORT_ACTOR,
        gather_report,
        parse_month,
        render_html,
        render_json,
        render_text,
    )
    from csdomain.service import ServiceDesk  # noqa: PLC0415
    from csdomain.store import open_store  # noqa: PLC0415

    if args.month is not None:
        parse_month(args.month, "--month")
    if args.rows < 0:
        raise ValidationError.at("--rows", "must not be negative")
    when = None if args.as_of is None else _parse_as_of(args.as_of)
    claim_rates = None if args.service_points is None else _read_claim_rates(args.service_points)
    html_path = None if args.html is None else output_file(args.html, "--html")
    html_to_stdout = args.html == "-"
    if html_to_stdout and args.json:
        raise ValidationError.at("--html", "- (standard output) and --json both print: pick one")
    language = _language(args.lang)
    require_existing_store(args.store)
    store = open_store(args.store)
    try:
        desk = ServiceDesk(store)
        tz = desk.policy.orders.number_tz
        as_of = None if when is None else _as_of_moment(when, tz)
        report = gather_report(
            desk, by=REPORT_ACTOR, month=args.month, as_of=as_of, claim_rates=claim_rates
        )
        notifications = desk.policy.notifications
    finally:
        store.close()
    if language is None:
        language = translator(notifications.language, notifications.catalog_dirs)
    if html_to_stdout:
        sys.stdout.write(render_html(report, language=language))
        return 0
    if html_path is not None:
        _write_whole(html_path, render_html(report, language=language))
        message = f"operations report {report.month} written to {html_path}"
        if not (args.json and is_quiet(args)):
            print(message, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(render_json(report))
    elif html_path is None:
        sys.stdout.write(render_text(report, max_rows=args.rows, language=language))
    return 0


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` next to ``path`` and rename it into place: interrupted or failed, no
    half-written page is left (an older page stays as it was)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as err:
        raise file_error(err, str(path), "write") from None
    finally:
        partial.unlink(missing_ok=True)


def add_report_command(subparsers: Subcommands) -> None:
    """Add ``csdomain report`` to the CLI's subparsers."""
    parser = subparsers.add_parser(
        "report",
        help="the monthly operations review: backlog, complaints, warranty, satisfaction, KPIs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "The operations review a service manager reads: orders awaiting stock or\n"
            "payment, returns, the complaint statistics table and SLA compliance,\n"
            "escalations, missed follow-up visits, warranty decisions and claims to audit,\n"
            "CSAT / NPS / satisfaction index with confidence intervals, and contact-centre\n"
            "KPIs against their targets. Read-only."
        ),
        epilog=_EPILOG,
    )
    add_store_option(parser)
    parser.add_argument("--month", metavar="YYYY-MM", help="the month to report on")
    parser.add_argument(
        "--as-of",
        metavar="WHEN",
        help="the moment the backlog lists are taken at (default: now): YYYY-MM-DD (the end "
        "of that day) or an ISO date and time with its offset",
    )
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML page")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument(
        "--lang",
        metavar="TAG",
        help=(
            "language of the text and HTML report: zh-CN or en (default: the policy's "
            "notifications.language, zh-CN)"
        ),
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=20,
        metavar="N",
        help="longest list shown in the text report (default 20)",
    )
    parser.add_argument(
        "--service-points",
        metavar="FILE",
        help="JSON with service points' claims and units for the claim-rate check",
    )
    parser.set_defaults(handler=_cmd_report)
