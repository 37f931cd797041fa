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
    target: float
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
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
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
) -> tuple[float, float]:
    """Median seconds of ``ours`` and ``baseline`` over ``repeats`` alternating runs."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        if setup:
            setup()
        a.append(timed(ours))
        if setup:
            setup()
        b.append(timed(baseline))
    return statistics.median(a), statistics.median(b)


def _shown(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.2f} ms"
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
        print(
            f"| {r.name} | {_shown(r.ours, r.unit)} | {r.baseline_name}: "
            f"{_shown(r.baseline, r.unit)} "
            f"| {r.ratio:.2f}x | {sign} {r.target}x | {'yes' if r.ok else 'NO'} |"
        )


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()
