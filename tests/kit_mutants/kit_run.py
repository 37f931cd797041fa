"""The conformance kit on the unchanged guide backend and on every mutant (run by run.py).

Not collected by the test suite (no ``test_`` prefix): ``nox -s kit-mutants`` runs it.
"""

from __future__ import annotations

from mutants import CONTROL, MUTANTS


class TestControl(CONTROL):  # type: ignore[misc, valid-type]
    """The unchanged guide backend: must pass the whole kit."""


for _mutant in MUTANTS:
    globals()[f"TestMutant_{_mutant.name}"] = type(
        f"TestMutant_{_mutant.name}", (_mutant.kit,), {"__doc__": _mutant.bug}
    )
