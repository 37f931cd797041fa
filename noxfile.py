"""Automation using nox: ``nox -s tests`` runs the suite, ``nox`` runs lint, types and tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox


nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

#: Test-only tools: parallel runs, a local SMTP server, and the example HTTP API's framework
#: with its test client (examples/http_api).
TEST_TOOLS = ("pytest-xdist>=3.5", "aiosmtpd>=1.4", "starlette>=1.10", "httpx2>=2.17")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (hypothesis profile ``ci`` unless CSDOMAIN_HYPOTHESIS_PROFILE says)."""
    session.install("-e", ".[testing,postgres,holidays]", *TEST_TOOLS)
    session.env.setdefault("CSDOMAIN_HYPOTHESIS_PROFILE", "ci")
    args = session.posargs or ["-n", "2", "--dist", "loadfile", "-q"]
    session.run("pytest", *args)


@nox.session(name="kit-mutants")
def kit_mutants(session: nox.Session) -> None:
    """The kit checks itself: it must catch every broken backend in tests/kit_mutants."""
    session.install("-e", ".[testing]")
    session.run("python", "tests/kit_mutants/run.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """Heavy property runs: the hypothesis ``soak`` profile over the whole suite."""
    session.install("-e", ".[testing,postgres,holidays]", *TEST_TOOLS)
    session.env["CSDOMAIN_HYPOTHESIS_PROFILE"] = "soak"
    session.env.setdefault("CSDOMAIN_CRASH_KILLS", "5000")
    session.run("pytest", "-n", "2", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    paths = ("src", "tests", "benchmarks", "examples", "tools", "docs/_ext", "noxfile.py")
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the three packages."""
    session.install("-e", ".[testing,postgres,holidays]", "mypy>=1.10", "types-python-dateutil")
    session.run("mypy", "--strict", "src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site (Sphinx + MyST, API from docstrings); warnings fail."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def demo(session: nox.Session) -> None:
    """Install the package and build the demo store in the working directory."""
    session.install(".")
    session.run("csdomain", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks (never part of the test run).

    Baseline-only packages (SQLAlchemy, pydantic, msgspec, and orjson for its own floor
    row) are installed here, never by the library.
    """
    session.install("-e", ".[postgres]", "sqlalchemy>=2", "pydantic>=2", "msgspec>=0.18", "orjson")
    for script in sorted(Path("benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session
def browser(session: nox.Session) -> None:
    """The HTML report in headless Chromium (installs Debian's chromium when missing)."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        if shutil.which("apt-get") is None:
            session.error("Chromium is missing and apt-get is not available: install Chromium")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run(*sudo, "apt-get", "update", external=True, env=env)
        session.run(*sudo, "apt-get", "install", "-y", "chromium", external=True, env=env)
    session.install("-e", ".[testing]", *TEST_TOOLS)
    session.run("pytest", "tests/browser", "-q", "-rs", *session.posargs)
