"""The README leads a newcomer in (issue 16 item 1): two set-up commands, a first app, links.

The first app itself runs with the other documented examples (tests/test_docs.py); here
are the promises around it that no example run checks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from csdomain.cli import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, build_parser


ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICKSTART = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a Markdown page."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match is not None, heading
    return match.group(1)


def commands(text: str) -> list[str]:
    """The indented (four-space) command lines of a Markdown section."""
    return [line[4:] for line in text.splitlines() if line.startswith("    ") and line.strip()]


def test_the_set_up_is_exactly_two_commands_and_the_quickstart_repeats_them() -> None:
    # Rule: a venv, the install and the demo in one command; the tests in the second.
    readme = commands(section(README, "Set-up"))
    assert readme == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && csdomain demo",
        "pip install nox && nox -s tests",
    ]
    assert commands(section(QUICKSTART, "Set up")) == readme


def test_the_test_command_names_a_nox_session_that_exists() -> None:
    # Rule: `nox -s tests` is a session of the noxfile, not a name that drifted.
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    sessions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert "tests" in sessions
    assert "docs" in sessions  # the README's way to build the documentation site


def test_the_first_app_goes_from_store_to_complaint_deadlines_without_owners() -> None:
    # Rule: the first app uses the store, a customer, an order (pay, ship), a complaint and
    # its deadlines, with no per-call `owners=` and the registered file as `.customer`.
    (app,) = re.findall(r"^## A first app\n.*?```python\n(.*?)^```", README, re.S | re.M)
    for step in (
        "open_store(",
        "register_customer(",
        ".customer",
        "place_order(",
        "record_payment(",
        "ship_order(",
        "receive_complaint(",
        "respond_by",
        "resolve_by",
        "is_breached(",
    ):
        assert step in app, step
    assert "owners=" not in app
    assert "customer, _" not in app
    assert len(app.strip().splitlines()) <= 40  # a first app, not a tour


def test_no_complaint_call_in_the_readme_or_quickstart_passes_owners() -> None:
    # Rule: desk-wide defaults for `owners` (ladder_owners) take it off every complaint call
    # a newcomer reads first.
    for page in (README, QUICKSTART):
        for block in re.findall(r"```python\n(.*?)```", page, re.S):
            assert "owners=" not in block


def test_the_readme_leads_on_to_the_quickstart_the_docs_site_and_the_report() -> None:
    # Rule: after the first app, the README links on.
    for target in ("docs/quickstart.md", "nox -s docs", "csdomain report --html report.html"):
        assert target in README, target
    for page in re.findall(r"\]\(((?:docs|examples)/[^)#]+)", README):
        assert (ROOT / page).is_file(), page


def test_the_quickstart_lists_every_command_and_the_exit_statuses() -> None:
    # Rule: the command line is documented where a newcomer reads: every command of the
    # parser and the exit statuses the CLI returns.
    page = section(QUICKSTART, "The command line")
    parser = build_parser()
    (commands_action,) = [a for a in parser._actions if a.dest == "command"]
    assert commands_action.choices is not None
    listed = set(re.findall(r"^\| `csdomain (\w+)`", page, re.M))
    assert listed == set(commands_action.choices)
    text = " ".join(page.split())
    for said in (
        "status is 0 when the work is done",
        "1 when it could not be",
        f"{EXIT_USAGE} for a usage error",
        f"{EXIT_INTERRUPTED} after Ctrl-C",
        f"{EXIT_BROKEN_PIPE} when the reader of the output went away",
    ):
        assert said in text, said
