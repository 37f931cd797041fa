"""Issue 21 from the command line: the operator's view of ``csdomain outbox``, what
``csdomain dispatch`` reports, its policy options and config file, and no silent empty
stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain import cli
from csdomain.cli.dispatch import dispatch_policy
from csdomain.kinds import MESSAGES
from csdomain.notify import Message, MessageStatus, NotificationPolicy
from csdomain.plugins import use_config_file
from csdomain.store import Store, open_store


LONG_ERROR = "DeliveryError: robot delivery failed: errcode 310000 " + "keywords not matched " * 6


@pytest.fixture
def cli_store(tmp_path: Path) -> Iterator[tuple[str, Store]]:
    url = f"sqlite:///{tmp_path / 'cs.db'}"
    opened = open_store(url)
    try:
        yield url, opened
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CSDOMAIN_CONFIG", raising=False)
    monkeypatch.delenv("CSDOMAIN_OPERATOR", raising=False)
    yield
    use_config_file(None)


def note(n: int, at: datetime | None = None, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "channel": "sms",
        "recipient": "13800000000",
        "kind": "order_shipped",
        "body": f"Order {n} shipped.",
        "at": at or datetime.now(UTC) - timedelta(hours=1),
        "source": f"manual:{n}",
    }
    values.update(fields)
    return Message.create(**values)


def dead(message: Message, error: str = LONG_ERROR) -> Message:
    policy = NotificationPolicy()
    for _ in range(policy.max_attempts):
        moment = message.due_at or datetime.now(UTC)
        message = message.claim("w-1", moment, policy.lease).mark_failed(error, moment, policy)
    return message


def put(store: Store, *messages: Message) -> None:
    with store.unit_of_work() as uow:
        uow.repo(MESSAGES).add_many(messages)


def stored(store: Store) -> dict[str, Message]:
    with store.unit_of_work(readonly=True) as uow:
        return {m.id: m for m in uow.repo(MESSAGES).find()}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- no silent empty stores ---------------------------------------------------------------


@pytest.mark.parametrize("command", [["outbox"], ["dispatch", "--once"], ["outbox", "retry", "x"]])
def test_a_mistyped_store_file_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Rule (issue 21): outbox and dispatch never report on an empty store they made."""
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    code, out, err = run(capsys, *command, "--store", url)
    assert code == 1
    assert "no store at" in err
    assert "typo.db does not exist" in err
    assert not (tmp_path / "typo.db").exists()
    assert "no pending messages" not in out


def test_dispatch_creates_a_store_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, _, err = run(capsys, "dispatch", "--once", "--store", url)
    assert code == 1
    assert "--create-store" in err
    assert run(capsys, "dispatch", "--once", "--store", url, "--create-store")[0] == 0
    assert (tmp_path / "new.db").exists()


# -- the operator's view ----------------------------------------------------------------


def test_outbox_shows_counts_and_why_and_until_when_messages_wait(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    now = datetime.now(UTC)
    policy = NotificationPolicy()
    failed = note(2, urgent=True).claim("w-1", now, policy.lease).mark_failed("x", now, policy)
    put(
        store,
        note(1),
        failed,
        note(4, not_before=now + timedelta(days=2)),
        note(5, at=now - timedelta(hours=2)).claim(
            "w-gone", now - timedelta(hours=1), policy.lease
        ),
        dead(note(6, urgent=True)),
    )
    code, out, _ = run(capsys, "outbox", "--store", url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("outbox at ")
    assert (
        "pending 3 (due now 1; held 2: backoff 1, scheduled 1), claimed 1 (1 stale), dead 1"
        in lines[0]
    )
    assert lines[1].startswith("next due: ")
    assert "due now" in out
    assert "backoff until " in out
    assert "scheduled until " in out

    code, out, _ = run(capsys, "outbox", "--store", url, "--status", "claimed")
    assert "STALE (lease expired) by w-gone since " in out
    assert ", lease until " in out

    code, out, _ = run(capsys, "outbox", "--counts", "--json", "--store", url)
    counts = json.loads(out)
    assert counts["counts"]["pending"] == 3
    assert counts["waiting"]["backoff"] == 1
    assert counts["stale"] == 1


def test_outbox_cuts_errors_visibly_and_shows_them_whole_when_asked(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    letter = dead(note(1, urgent=True))
    put(store, letter)
    _, out, _ = run(capsys, "outbox", "--status", "dead", "--store", url)
    assert LONG_ERROR[:59] + "…" in out
    assert "--wide shows them whole" in out
    _, out, _ = run(capsys, "outbox", "--status", "dead", "--wide", "--store", url)
    assert " ".join(LONG_ERROR.split()) in out
    _, out, _ = run(capsys, "outbox", "show", letter.id, "--store", url)
    assert f"id:              {letter.id}" in out
    assert "keywords not matched" in out
    assert f"idempotency key: {letter.idempotency_key}" in out
    assert "claimed -> dead by w-1" in out


def test_outbox_filters_by_kind_channel_and_customer(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    email = note(2, channel="email", recipient="li@example.com", customer_id="C-9")
    birthday = note(3, kind="birthday")
    sms = note(1)
    put(store, sms, email, birthday)
    _, out, _ = run(capsys, "outbox", "--channel", "email", "--store", url)
    assert email.id in out
    assert sms.id not in out
    _, out, _ = run(capsys, "outbox", "--kind", "birthday", "--store", url)
    assert birthday.id in out
    assert email.id not in out
    _, out, _ = run(capsys, "outbox", "--customer", "C-9", "--json", "--store", url)
    assert [m["id"] for m in json.loads(out)] == [email.id]


def test_dead_letters_are_retried_in_bulk_by_channel_with_the_operator_named(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    letters = [dead(note(n, urgent=True)) for n in range(3)]
    other = dead(note(9, urgent=True, channel="pager", recipient="duty"))
    put(store, *letters, other)
    code, out, _ = run(
        capsys, "outbox", "retry", "--dead", "--channel", "sms", "--by", "wang.fang", "--store", url
    )
    assert code == 0
    assert "requeued 3 dead letter(s) of channel sms" in out
    now = stored(store)
    assert {now[m.id].status for m in letters} == {MessageStatus.PENDING}
    assert {now[m.id].history[-1].by for m in letters} == {"wang.fang"}
    assert now[other.id].status is MessageStatus.DEAD


def test_retrying_a_message_being_delivered_is_refused_with_who_has_it(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule (issue 21): retry is for dead letters; a claimed message is never sent twice."""
    url, store = cli_store
    now = datetime.now(UTC)
    claimed = note(1).claim("worker-7", now, timedelta(minutes=5))
    put(store, claimed)
    code, _, err = run(capsys, "outbox", "retry", claimed.id, "--store", url)
    assert code == 1
    assert "cannot requeue while claimed: it is being delivered by worker 'worker-7'" in err
    assert "retry is for dead letters" in err
    assert stored(store)[claimed.id] == claimed


def test_cancel_records_the_operator_given(
    cli_store: tuple[str, Store],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, store = cli_store
    first, second = note(1), note(2)
    put(store, first, second)
    argv = ["outbox", "cancel", first.id, "--reason", "sent by hand", "--by", "li.na"]
    assert run(capsys, *argv, "--store", url)[0] == 0
    monkeypatch.setenv("CSDOMAIN_OPERATOR", "zhao.lei")
    assert run(capsys, "outbox", "cancel", second.id, "--reason", "dup", "--store", url)[0] == 0
    now = stored(store)
    assert now[first.id].history[-1].by == "li.na"
    assert now[second.id].history[-1].by == "zhao.lei"


# -- dispatch: what it reports, its options and config ------------------------------------


def test_dispatch_reports_held_counts_and_the_next_due_time(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    later = datetime.now(UTC) + timedelta(days=1)
    put(store, note(1, channel="log", recipient="ops"), note(2, not_before=later))
    code, out, _ = run(capsys, "dispatch", "--once", "--store", url)
    assert code == 0
    assert "delivered 1, retried 0, dead-lettered 0, deferred 0, held 0" in out
    assert "pending 1 (due now 0; held 1: scheduled 1)" in out
    assert f"next due: {later:%Y-%m-%d %H:%M:%S}Z" in out


def test_dispatch_releases_its_own_claims_from_before_a_restart(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    url, store = cli_store
    now = datetime.now(UTC)
    put(
        store,
        note(1, channel="log", recipient="ops").claim("dispatcher-1", now, timedelta(hours=1)),
    )
    code, out, _ = run(capsys, "dispatch", "--once", "--worker-id", "dispatcher-1", "--store", url)
    assert code == 0
    assert "released 1 claim(s) of dispatchers that are gone" in out
    assert "delivered 1" in out


def test_dispatch_policy_comes_from_defaults_config_file_and_options(tmp_path: Path) -> None:
    config = tmp_path / "csdomain.toml"
    config.write_text(
        "[notifications]\nlease = 600\nmax_attempts = 8\n"
        '[notifications.channels]\norder_shipped = "robot"\n'
        '[notifications.channel_limits.robot]\nconcurrency = 4\nrate = "0.5"\nburst = 10\n',
        encoding="utf-8",
    )
    parser = cli.build_parser()
    args = parser.parse_args(
        [
            "dispatch",
            "--once",
            "--config",
            str(config),
            "--max-attempts",
            "3",
            "--backoff-base",
            "30",
            "--backoff-cap",
            "900",
            "--channel",
            "birthday=email",
            "--rate-limit",
            "robot=2/5",
            "--concurrency",
            "sms=16",
        ]
    )
    use_config_file(args.config)
    policy = dispatch_policy(args)
    assert policy.lease == timedelta(minutes=10)  # the file
    assert policy.max_attempts == 3  # the option wins
    assert (policy.backoff_base, policy.backoff_cap) == (
        timedelta(seconds=30),
        timedelta(minutes=15),
    )
    assert policy.channels["order_shipped"] == "robot"
    assert policy.channels["birthday"] == "email"
    assert policy.channels["complaint_received"] == "sms"  # the default is kept
    robot = policy.limits_for("robot")
    assert (robot.concurrency, robot.rate, robot.burst) == (4, Decimal(2), 5)
    assert policy.limits_for("sms").concurrency == 16


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--rate-limit", "robot"),
        ("--rate-limit", "robot=fast"),
        ("--concurrency", "robot=-1"),
        ("--lease", "0"),
        ("--channel", "=robot"),
    ],
)
def test_bad_policy_options_are_one_clear_line(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    # Rule: a bad option value is a usage error: exit 2, the usage line and one error line.
    url, _ = cli_store
    code, _, err = run(capsys, "dispatch", "--once", option, value, "--store", url)
    assert code == 2
    usage, message = err.split("\ncsdomain dispatch: error: ")
    assert usage.startswith("usage: csdomain dispatch")
    assert len(message.strip().splitlines()) == 1


def test_an_unknown_policy_value_in_the_config_file_is_named(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url, _ = cli_store
    config = tmp_path / "bad.toml"
    config.write_text("[notifications]\nleese = 600\n", encoding="utf-8")
    code, _, err = run(capsys, "dispatch", "--once", "--config", str(config), "--store", url)
    assert code == 1
    assert "notifications.leese" in err


def test_dispatch_says_how_to_deliver_a_channel_no_notifier_handles(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule (issue 16, CLI manners): messages on a channel without a notifier fail; the
    run says so, per channel, with the options that deliver SMS (on stderr: --json stays
    clean), and says nothing once a notifier handles the channel."""
    url, store = cli_store
    put(store, *(note(n) for n in range(3)), note(9, channel="fax", recipient="027-1"))
    code, out, err = run(capsys, "dispatch", "--once", "--store", url, "--json")
    assert code == 0
    assert json.loads(out)["retried"] == 4
    assert (
        "3 message(s) on channel 'sms' failed: no notifier handles it; --sms-file - prints "
        "them (development), --sms-gateway URL sends them"
    ) in err
    assert "1 message(s) on channel 'fax' failed: no notifier handles it; install" in err
    with store.unit_of_work() as uow:  # due again now, as after the backoff
        repo = uow.repo(MESSAGES)
        for message in repo.find(channel="sms"):
            repo.update(attrs.evolve(message, next_attempt_at=message.created_at))
    code, out, err = run(capsys, "dispatch", "--once", "--store", url, "--sms-file", "-")
    assert code == 0
    assert "channel 'sms'" not in err
    assert "channel 'fax'" in err
    code, out, err = run(capsys, "-q", "dispatch", "--once", "--store", url)
    assert (code, err) == (0, "")  # -q: a hint is not an error


# -- masked is not erased -----------------------------------------------------------------


def test_outbox_shows_masked_recipients_as_masked_and_erased_ones_as_erased(
    cli_store: tuple[str, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: the command line lacks customer.read, so a customer's recipient reads
    # [masked] (only hidden); [erased] is shown for a customer whose data was erased
    url, store = cli_store
    hidden = note(1, customer_id="C-9")
    gone = note(2, customer_id="C-8", recipient="[erased]")
    put(store, hidden, gone)
    _, out, _ = run(capsys, "outbox", "--status", "all", "--store", url)
    row = next(line for line in out.splitlines() if hidden.id in line)
    assert "[masked]" in row
    assert "13800000000" not in row
    assert "[erased]" not in row
    assert "[erased]" in next(line for line in out.splitlines() if gone.id in line)
    _, out, _ = run(capsys, "outbox", "--status", "all", "--json", "--store", url)
    shown = {m["id"]: m["recipient"] for m in json.loads(out)}
    assert shown == {hidden.id: "[masked]", gone.id: "[erased]"}
    _, out, _ = run(capsys, "outbox", "show", hidden.id, "--store", url)
    assert "[masked]" in out
    assert "13800000000" not in out
