"""The command line's manners: version, loudness, exit statuses, store URLs, file errors."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csdomain import Actor, ServiceDesk, open_store
from csdomain._version import __version__
from csdomain.cli import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, Progress, main
from csdomain.cli.demo import render_summary


def run(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - the status is what is checked
        [sys.executable, "-m", "csdomain", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        **kwargs,  # type: ignore[call-overload]
    )


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    # Rule: `csdomain --version` prints the one version source.
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"csdomain {__version__}"


def test_a_bare_file_name_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    # Rule: a usage error exits 2 with usage; a bare path suggests the sqlite:/// URL.
    with pytest.raises(SystemExit) as done:
        main(["report", "--store", "csdomain.db"])
    assert done.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: csdomain report")
    assert "did you mean sqlite:///csdomain.db?" in err


def test_a_bare_file_name_in_the_environment_says_where_it_came_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule: the did-you-mean names $CSDOMAIN_STORE when the bad value came from there.
    monkeypatch.setenv("CSDOMAIN_STORE", "cs.db")
    with pytest.raises(SystemExit) as done:
        main(["report"])
    assert done.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not a store URL: 'cs.db' (from $CSDOMAIN_STORE) (did you mean sqlite:///cs.db?)" in err
    with pytest.raises(SystemExit):
        main(["report", "--store", "other.db"])
    assert "$CSDOMAIN_STORE" not in capsys.readouterr().err


def test_the_librarys_own_option_checks_exit_2_with_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: every usage error exits 2 with the command's usage, argparse's or ours.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    assert main(["dispatch", "--once", "--store", store, "--create-store", "--interval", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: csdomain dispatch")
    assert "--interval" in err


def test_an_in_memory_store_is_refused_where_a_command_reads_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Rule: `--store sqlite:///` would report on an empty store without saying so.
    for command in (["report"], ["outbox"], ["export", "-o", "-"]):
        assert main([*command, "--store", "sqlite:///"]) == EXIT_USAGE
        assert "in-memory store" in capsys.readouterr().err


def test_export_to_a_missing_folder_names_the_users_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: file errors are one friendly line naming the user's file, not the .partial.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    assert main(["demo", "--store", store]) == 0
    capsys.readouterr()
    target = tmp_path / "nonexistent" / "x.jsonl"
    assert main(["export", "--store", store, "-o", str(target)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"cannot write {target}" in err
    assert "does not exist" in err
    assert ".partial" not in err


def test_a_refused_import_leaves_no_database_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: a refused import removes the database it created.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an export"}\n', encoding="utf-8")
    target = tmp_path / "restored.db"
    assert main(["import", str(bad), "--store", f"sqlite:///{target}"]) == 1
    assert "error" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_verbose_shows_the_log_notifiers_deliveries(tmp_path: Path) -> None:
    # Rule: -v makes the log notifier's deliveries visible through stdlib logging.
    stores = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    for store in stores:
        assert run("demo", "--store", store, cwd=tmp_path).returncode == 0
    quiet = run("dispatch", "--once", "--store", stores[0], cwd=tmp_path)
    loud = run("dispatch", "--once", "--store", stores[1], "-v", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "csdomain.notify" not in quiet.stderr
    assert loud.returncode == 0, loud.stderr
    assert "csdomain.notify" in loud.stderr


def test_a_broken_pipe_is_quiet(tmp_path: Path) -> None:
    # Rule: `csdomain outbox --limit 100000 | head -1` ends quietly, not with "Broken pipe".
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    assert run("demo", "--store", store, cwd=tmp_path).returncode == 0
    reader = subprocess.Popen(
        [sys.executable, "-m", "csdomain", "outbox", "--store", store, "--limit", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert reader.stdout is not None
    reader.stdout.readline()
    reader.stdout.close()  # the reader goes away, like `head -1`
    _, err = reader.communicate(timeout=120)
    assert reader.returncode in (0, EXIT_BROKEN_PIPE)
    assert b"Broken pipe" not in err
    assert b"Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_exits_130_and_leaves_no_half_built_demo(tmp_path: Path) -> None:
    # Rule: Ctrl-C exits 130; the demo builds into a temporary file renamed at the end.
    target = tmp_path / "big.db"
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "csdomain",
            "demo",
            "--size",
            "medium",
            "--store",
            f"sqlite:///{target}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(tmp_path.glob(".big.db.*.partial")):
        time.sleep(0.05)
    time.sleep(0.5)
    demo.send_signal(signal.SIGINT)
    _, err = demo.communicate(timeout=120)
    assert demo.returncode == EXIT_INTERRUPTED, err
    assert b"interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_dispatch_has_an_sms_sender_for_development_and_a_gateway(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule: the "sms" channel the demo queues has senders: a file/console one and a gateway.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    base = ["dispatch", "--once", "--store", store, "--create-store"]
    assert main([*base, "--sms-file", str(tmp_path / "sms.jsonl")]) == 0
    assert "notifier: SmsFileNotifier" in capsys.readouterr().out
    monkeypatch.setenv("CSDOMAIN_SMS_SECRET", "gateway-secret")
    assert main([*base, "--sms-gateway", "https://sms.example.com/send"]) == 0
    out = capsys.readouterr().out
    assert "notifier: SmsGatewayNotifier" in out
    assert "gateway-secret" not in out
    assert main([*base, "--sms-gateway", "ftp://sms.example.com"]) == EXIT_USAGE
    assert "--sms-gateway" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///:memory:", "memory://"])
def test_every_reading_command_refuses_an_in_memory_store_with_usage(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: an in-memory store is empty when a reading command starts and gone when it ends:
    # a usage error (exit 2 with usage), also for dispatch with --create-store.
    for command in (
        ["report"],
        ["outbox"],
        ["outbox", "show", "msg-1"],
        ["export", "-o", "-"],
        ["dispatch", "--once"],
        ["dispatch", "--once", "--create-store"],
    ):
        assert main([*command, "--store", url]) == EXIT_USAGE, command
        err = capsys.readouterr().err
        assert err.startswith(f"usage: csdomain {command[0]}"), err
        assert f"--store: {url} is an in-memory store" in err


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["outbox", "--limit", "0"], "--limit"),
        (["outbox", "--limit", "-1"], "--limit"),
        (["outbox", "--limit", str(2**63)], "--limit"),
        (["outbox", "retry", "--dead", "--limit", "0"], "--limit"),
        (["dispatch", "--once", "--max-attempts", "0"], "--max-attempts"),
        (["dispatch", "--once", "--batch-size", "0"], "--batch-size"),
        (["dispatch", "--once", "--concurrency", "sms=0"], "--concurrency"),
        (["dispatch", "--once", "--backoff-factor", "0"], "--backoff-factor"),
        (["dispatch", "--once", "--rate-limit", "sms=1/0"], "--rate-limit"),
    ],
)
def test_count_and_policy_options_are_usage_errors_naming_the_option(
    command: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: every usage error exits 2 with usage and names the option the user typed,
    # also where the library (the desk's limit, the notification policy) does the check.
    store = tmp_path / "cs.db"
    with ServiceDesk(open_store(f"sqlite:///{store}")):
        pass  # an existing, empty store: the option is what is wrong
    status: object
    try:
        status = main([*command, "--store", f"sqlite:///{store}"])
    except SystemExit as done:  # argparse's own type check
        status = done.code
    assert status == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"usage: csdomain {command[0]}" in err
    assert f"{option}:" in err
    assert "notifications." not in err


def test_an_import_into_memory_says_it_was_a_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: importing into an in-memory store checks the export and says nothing was kept.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    with ServiceDesk(open_store(store)) as desk:
        desk.register_customer(name="Huake", city="Wuhan", by=Actor.superuser())
    backup = tmp_path / "cs.jsonl"
    assert main(["export", "--store", store, "-o", str(backup)]) == 0
    capsys.readouterr()
    assert main(["import", str(backup), "--store", "memory://"]) == 0
    out = capsys.readouterr().out
    assert f"checked {backup}:" in out
    assert "memory:// is an in-memory store: nothing was kept" in out


def test_a_demo_in_memory_does_not_suggest_commands_on_a_store_that_is_gone() -> None:
    # Rule: "what to try next" names only commands that work; a demo built in memory is
    # gone when the command ends, so the summary says to build it in a file instead.
    text = render_summary({"customers": 3}, "memory://")
    assert "What to try next" not in text
    assert "--store memory://" not in text
    assert "csdomain demo --store sqlite:///csdomain.db" in text
    assert "What to try next" in render_summary({"customers": 3}, "sqlite:///demo.db")


@pytest.mark.parametrize(
    ("command", "option", "message"),
    [
        (["report", "--html", "{missing}/r.html"], "--html", "the folder {missing} does not"),
        (["report", "--html", "{folder}"], "--html", "{folder} is a folder"),
        (["export", "-o", "{missing}/x.jsonl"], "--output", "the folder {missing} does not"),
        (["export", "-o", "{folder}"], "--output", "{folder} is a folder"),
        (["import", "{missing}/x.jsonl"], "FILE", "file {missing}/x.jsonl does not exist"),
        (["import", "{folder}"], "FILE", "{folder} is a folder"),
        (["dispatch", "--once", "--sms-file", "{missing}/s.jsonl"], "--sms-file", "{missing}"),
        (["dispatch", "--once", "--sms-file", "{folder}"], "--sms-file", "{folder} is a folder"),
    ],
)
def test_a_file_option_is_checked_before_any_work_as_a_usage_error(
    command: list[str],
    option: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Rule: friendly file errors: a file a command cannot write or read is one line naming
    # the user's path and the option, exit 2 with usage, before any work (an SMS file in a
    # missing folder would otherwise fail every text at its first delivery, hours later).
    places = {"missing": str(tmp_path / "nowhere"), "folder": str(tmp_path / "a-folder")}
    (tmp_path / "a-folder").mkdir()
    store = tmp_path / "cs.db"
    with ServiceDesk(open_store(f"sqlite:///{store}")):
        pass
    argv = [part.format(**places) for part in command]
    assert main([*argv, "--store", f"sqlite:///{store}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"usage: csdomain {command[0]}")
    assert f"error: {option}: " in err
    assert message.format(**places) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder", "cs.db"]


@pytest.mark.parametrize("command", [["demo"], ["report"], ["outbox"], ["export", "-o", "-"]])
def test_a_store_url_naming_a_folder_is_a_usage_error(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: `--store sqlite:///FOLDER` says it is a folder and suggests a file in it,
    # instead of SQLite's "unable to open database file".
    assert main([*command, "--store", f"sqlite:///{tmp_path}"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"--store: {tmp_path} is a folder, not a store file" in err
    assert f"sqlite:///{tmp_path / 'csdomain.db'}" in err
    assert list(tmp_path.iterdir()) == []


def test_the_report_page_is_written_whole_or_to_standard_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rule: --html writes through a temporary file renamed at the end (no half-written
    # page); `--html -` prints the page, and refuses --json beside it.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    with ServiceDesk(open_store(store)):
        pass
    page = tmp_path / "report.html"
    assert main(["report", "--store", store, "--html", str(page), "--lang", "en"]) == 0
    capsys.readouterr()
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cs.db", "report.html"]
    assert main(["report", "--store", store, "--html", "-", "--lang", "en"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert main(["report", "--store", store, "--html", "-", "--json"]) == EXIT_USAGE
    assert "--html: - (standard output) and --json both print" in capsys.readouterr().err


def test_quiet_leaves_stderr_to_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rule: -q prints errors only on stderr: no progress bars, status lines or hints; the
    # command's results still go to stdout.
    store = f"sqlite:///{tmp_path / 'cs.db'}"
    with ServiceDesk(open_store(store)) as desk:
        desk.register_customer(name="Huake", city="Wuhan", by=Actor.superuser())
    assert main(["export", "--store", store, "-o", "-"]) == 0
    assert "exported" in capsys.readouterr().err
    assert main(["-q", "export", "--store", store, "-o", "-"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert '"kind"' in quiet.out
    assert (
        main(["report", "--store", store, "--json", "--html", str(tmp_path / "r.html"), "-q"]) == 0
    )
    quiet = capsys.readouterr()
    assert quiet.err == ""
    assert quiet.out.startswith("{")
    monkeypatch.setattr(Progress, "quiet", False)
    bar = io.StringIO()
    shown = Progress("building", 10, stream=bar)
    shown.started -= 5  # the work has run for a while: the bar is drawn
    shown.advance(5)
    assert "building" in bar.getvalue()
    monkeypatch.setattr(Progress, "quiet", True)
    hidden = Progress("building", 10, stream=(silent := io.StringIO()))
    hidden.started -= 5
    hidden.advance(5)
    hidden.close()
    assert silent.getvalue() == ""
