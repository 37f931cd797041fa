"""``csdomain report`` on the large demo store: gathering and rendering the monthly review.

Run with ``python benchmarks/bench_report.py [--quick] [--store PATH]``. The store is the
large demo (``csdomain demo --size large``: about 1,000,000 rows; ``--quick``: the medium
demo), built once into ``PATH`` (default ``/tmp/csdomain-bench-report-<size>.db``) and
reused by later runs, since building it takes minutes. Each round times what the command
does for its default month: :func:`~csdomain.report.gather_report` in read-only units of
work, then the text and the HTML pages; medians of ``--repeats`` rounds (default 3 here).
The target (issue #15 item 7) is at most 10 s for gathering and rendering on the large
demo. Gathering and rendering are also shown apart, as references.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from csdomain.demo import build_demo
from csdomain.i18n import translator
from csdomain.report import REPORT_ACTOR, gather_report, render_html, render_text
from csdomain.service import ServiceDesk
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, print_table


TARGET_SECONDS = 10.0


def _arguments() -> tuple[str, Path, int]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the medium demo, for a smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=None, help="the demo store file to reuse")
    args = parser.parse_args()
    size = "medium" if args.quick else "large"
    path = args.store or Path(f"/tmp/csdomain-bench-report-{size}.db")  # noqa: S108 - reused
    return size, path, args.repeats


def ensure_demo(path: Path, size: str) -> None:
    """Build the demo of ``size`` into ``path`` unless it is there already."""
    if path.exists():
        print(f"reusing the {size} demo in {path}")
        return
    began = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    try:
        build_demo(store, size=size)
    finally:
        store.close()
    print(f"built the {size} demo into {path} in {time.perf_counter() - began:.0f} s")


def rows_of(path: Path) -> int:
    """How many documents the store holds (every kind)."""
    store = open_store(f"sqlite:///{path}")
    try:
        with store.unit_of_work(readonly=True) as uow:
            return sum(uow.repo(kind).count() for kind in store.kinds)
    finally:
        store.close()


def one_round(path: Path) -> tuple[float, float]:
    """Seconds to gather the report, and to render its text and HTML pages."""
    store = open_store(f"sqlite:///{path}")
    try:
        desk = ServiceDesk(store)
        began = time.perf_counter()
        report = gather_report(desk, by=REPORT_ACTOR)
        gathered = time.perf_counter() - began
        notifications = desk.policy.notifications
    finally:
        store.close()
    language = translator(notifications.language, notifications.catalog_dirs)
    began = time.perf_counter()
    render_text(report, max_rows=20, language=language)
    render_html(report, language=language)
    return gathered, time.perf_counter() - began


def main() -> None:
    size, path, repeats = _arguments()
    ensure_demo(path, size)
    print(f"{rows_of(path):,} documents in the store")
    gathered: list[float] = []
    rendered: list[float] = []
    for _ in range(repeats):
        g, r = one_round(path)
        gathered.append(g)
        rendered.append(r)
        print(f"gather {g:.2f} s, render {r:.2f} s")
    total = statistics.median(g + r for g, r in zip(gathered, rendered, strict=True))
    results = [
        Result(
            f"csdomain report (gather + render), {size} demo",
            total,
            TARGET_SECONDS,
            1.0,
            "issue #15 target",
        ),
        Result("of which gathering", statistics.median(gathered), total, None, "the whole"),
        Result("of which rendering", statistics.median(rendered), total, None, "the whole"),
    ]
    print_table(f"csdomain report on the {size} demo (SQLite)", results)


if __name__ == "__main__":
    main()
