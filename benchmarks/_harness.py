"""Tiny side-by-side benchmark harness: medians over repeats, ratios against a baseline.

Each benchmark runs csdomain and its baseline in the same process, on the same data,
alternating the two so machine noise hits both alike. Never part of the test run.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    """One measured pair."""

    name: str
    ours: float
    baseline: float
    #: The ratio to reach; ``None``: a reference row without a target.
    target: float | None
    baseline_name: str
    higher_is_better: bool = False
    #: What ``ours`` and ``baseline`` measure: ``"s"`` (seconds, shown in ms), ``"bytes"``
    #: (shown in MiB) or a rate such as ``"orders/s"``.
    unit: str = "s"

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def ok(self) -> bool:
        if self.target is None:
            return True
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


def timed(fn: Callable[[], object], *, gc_on: bool = False) -> float:
    """Seconds ``fn`` takes, after a collection; the collector is off while it runs
    unless ``gc_on`` (converter rows run with it on, as an application does)."""
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def pair(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    *,
    repeats: int = 5,
    setup: Callable[[], object] | None = None,
    gc_on: bool = False,
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``baseline`` over ``repeats`` alternating runs."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        if setup:
            setup()
        a.append(timed(ours, gc_on=gc_on))
        if setup:
            setup()
        b.append(timed(baseline, gc_on=gc_on))
    return statistics.median(a), statistics.median(b)


def _shown(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.2f} ms"
    if unit == "us":
        return f"{value * 1e6:.2f} µs"
    if unit == "bytes":
        return f"{value / 2**20:.2f} MiB"
    return f"{value:,.0f} {unit}"


def print_table(title: str, results: Sequence[Result]) -> None:
    print(f"\n## {title}\n")
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}"
    )
    print()
    print("| benchmark | csdomain | baseline | ratio | target | ok |")
    print("|---|---|---|---|---|---|")
    for r in results:
        sign = ">=" if r.higher_is_better else "<="
        target = "reference" if r.target is None else f"{sign} {r.target}x"
        ok = "-" if r.target is None else ("yes" if r.ok else "NO")
        print(
            f"| {r.name} | {_shown(r.ours, r.unit)} | {r.baseline_name}: "
            f"{_shown(r.baseline, r.unit)} "
            f"| {r.ratio:.2f}x | {target} | {ok} |"
        )


def arguments(description: str, *, only: Sequence[str] = ()) -> argparse.Namespace:
    """``--quick``, ``--repeats`` and, when ``only`` names parts, ``--only PART ...``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    if only:
        parser.add_argument("--only", nargs="+", choices=only, help="run these parts only")
    return parser.parse_args()
