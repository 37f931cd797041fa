"""The kit checks itself: run it on every deliberately broken backend, fail if one escapes.

    python tests/kit_mutants/run.py [pytest arguments]     (``nox -s kit-mutants``)

One pytest process (``kit_run.py``) runs the whole conformance kit on the unchanged guide
backend (the control: every test must pass) and on every mutant of ``mutants.py``; the
``kit_recorder`` plugin writes each test's outcome. A mutant is caught when every kit
test it names failed (showing its text, when it names one). The run is bounded: the kit
never waits without a limit, and the process is stopped after ``TIMEOUT`` seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Seconds the whole kit run may take (a few minutes are expected).
TIMEOUT = 900
_TAIL = 60


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-_TAIL:])


def _by_class(outcomes: dict[str, dict[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    """``{class name: {test name: outcome}}`` (parametrized tests keep their ids)."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for nodeid, outcome in outcomes.items():
        parts = nodeid.split("::")
        if len(parts) == 3:
            found.setdefault(parts[1], {})[parts[2]] = outcome
    return found


def _run_kit(arguments: list[str], results: Path, log: Path) -> int | None:
    """The kit's pytest exit status, or ``None`` if it ran out of time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["KIT_MUTANTS_RESULTS"] = str(results)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(HERE / "kit_run.py"),
        "-p",
        "kit_recorder",
        "-p",
        "no:cacheprovider",
        "-q",
        "--tb=short",
        *arguments,
    ]
    with log.open("w", encoding="utf-8") as out:
        try:
            done = subprocess.run(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
    return done.returncode


def _verdict(mutant: Any, tests: dict[str, dict[str, str]]) -> tuple[bool, str]:
    failed = {name: o["message"] for name, o in tests.items() if o["outcome"] == "failed"}
    missing = [name for name in mutant.caught_by if name not in failed]
    if not tests:
        return False, "not run"
    if missing:
        return False, "escaped " + ", ".join(missing)
    if mutant.shows and not any(mutant.shows in message for message in failed.values()):
        return False, f"caught, but no failure shows {mutant.shows!r}"
    return True, f"caught ({len(failed)} of {len(tests)} kit tests fail)"


def main(arguments: list[str]) -> int:
    """Run the kit on the control and the mutants; print the table; 0 if all are caught."""
    sys.path.insert(0, str(HERE))
    from mutants import MUTANTS, cleanup

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kit-mutants-run-") as scratch:
        results, log = Path(scratch) / "results.json", Path(scratch) / "pytest.log"
        try:
            status = _run_kit(arguments, results, log)
        finally:
            cleanup()
        if status is None or status > 1 or not results.exists():
            why = f"ran over {TIMEOUT} s" if status is None else f"pytest exited {status}"
            print(f"the kit run failed to finish ({why}); its last lines:\n{_tail(log)}")
            print("kit-mutants: 0 passed, 1 failed")
            return 1
        outcomes = json.loads(results.read_text(encoding="utf-8"))
        tail = _tail(log)
    classes = _by_class(outcomes)
    good = bad = 0
    control = classes.get("TestControl", {})
    broken = sorted(name for name, o in control.items() if o["outcome"] == "failed")
    if control and not broken:
        good += 1
        print(f"control (the guide's backend unchanged): {len(control)} kit tests, all pass")
    else:
        bad += 1
        print(f"control FAILED: {broken or 'no kit test ran'}\n{tail}")
    width = max(len(m.name) for m in MUTANTS)
    print(f"\n{'mutant':<{width}}  result  bug class -> caught by")
    for mutant in MUTANTS:
        ok, detail = _verdict(mutant, classes.get(f"TestMutant_{mutant.name}", {}))
        good, bad = good + ok, bad + (not ok)
        mark = "ok  " if ok else "FAIL"
        print(f"{mutant.name:<{width}}  {mark}    {mutant.bug} -> {', '.join(mutant.caught_by)}")
        print(f"{'':<{width}}          {detail}")
    print(f"\n{len(outcomes)} kit tests in {time.monotonic() - started:.0f} s")
    print(f"kit-mutants: {good} passed, {bad} failed")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
