"""A pytest plugin for run.py: records every kit test's outcome and failure text as JSON.

It also loads the ``kit-mutants`` hypothesis profile: the same examples every run
(derandomized, no example database) and no shrinking, so a caught mutant fails fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings


_RESULTS = "KIT_MUTANTS_RESULTS"
_LONGEST = 4000
_outcomes: dict[str, dict[str, str]] = {}


def pytest_configure(config: pytest.Config) -> None:
    settings.register_profile(
        "kit-mutants",
        max_examples=40,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=False,
    )
    settings.load_profile("kit-mutants")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    recorded = _outcomes.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
    if report.failed:
        recorded["outcome"] = "failed"
        recorded["message"] += report.longreprtext[:_LONGEST]
    elif report.skipped and recorded["outcome"] == "passed":
        recorded["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session, exitstatus: Any) -> None:
    Path(os.environ[_RESULTS]).write_text(json.dumps(_outcomes), encoding="utf-8")
