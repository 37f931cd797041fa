"""The command line: help with examples, the demo, plugin listing, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from csdomain.cli import build_parser, main


COMMANDS = ["plugins", "demo", "dispatch", "outbox", "report", "export", "import"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_the_parser_knows_every_command() -> None:
    help_text = build_parser().format_help()
    for command in COMMANDS:
        assert command in help_text


def test_plugins_lists_the_bundled_backends_and_notifiers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert "csdomain_open_store" in listed["sqlite"]["hooks"]
    assert "csdomain_open_store" in listed["memory"]["hooks"]
    assert "csdomain_deliver" in listed["csdomain.notifiers"]["hooks"]
    assert main(["plugins"]) == 0
    assert "sqlite" in capsys.readouterr().out


def test_demo_builds_the_default_sqlite_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSDOMAIN_STORE", raising=False)
    assert main(["demo", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["customers"] == 60
    assert (tmp_path / "csdomain.db").exists()
    assert main(["demo"]) == 1
    assert "already holds data" in capsys.readouterr().err


def test_a_bad_store_url_is_one_clear_line_and_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--store", "nosuch://x"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("csdomain: error: no backend for 'nosuch' URLs")
    assert "\n" not in err
    # a folder that is not there is a wrong option value: usage, exit 2, naming --store
    assert main(["demo", "--store", "sqlite:///missing/dir/cs.db"]) == 2
    assert "--store: sqlite:///missing/dir/cs.db: the folder missing/dir does not exist" in (
        capsys.readouterr().err
    )


def test_the_installed_command_runs_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "csdomain", "demo", "--store", "nosuch://x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("csdomain: error:")


def test_the_cli_package_runs_as_a_module_and_help_loads_no_service_layer() -> None:
    code = (
        "import sys\n"
        "from csdomain.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('csdomain.service', 'csdomain.store', 'csdomain.report', 'csdomain.demo')\n"
        "print(','.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == ""
    assert "examples:" in result.stdout
    module = subprocess.run(
        [sys.executable, "-m", "csdomain.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "csdomain_open_store" in module.stdout


def test_the_former_command_modules_are_the_cli_commands() -> None:
    from csdomain import report_cli
    from csdomain.cli import report

    assert report_cli.add_report_command is report.add_report_command
