"""SurveyStats against a plain collections.Counter pass over the same survey answers.

Run: ``python benchmarks/bench_satisfaction.py [--n N] [--repeats R] [--uniform] [--quick]``.

Each answer row is five item ratings (five-point scale, a few skipped), an NPS score and
the two loyalty answers. By default the answers are correlated the way real ones are (a
customer's items cluster around one level); ``--uniform`` draws every value independently,
the worst case for SurveyStats because almost every row is distinct.

Pairs timed in the same run, alternately so that both sides see the same machine load;
the table shows median times and the median of the paired ratios:

- ``Counter(rows)`` (C-speed counting) vs ``SurveyStats.add_rows(rows)`` + ``result()``:
  the fast path; the target is a ratio of at most 1.5;
- a Python ``for`` loop doing ``counter[row] += 1`` vs a loop of
  ``SurveyStats.add_scores(...)``: the one-response-at-a-time API;
- ``SurveyStats.add(SurveyResponse)`` over stored response objects (a tenth of the rows),
  for the per-response cost of the fully checked path.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from csdomain.satisfaction import Survey, SurveyResponse, SurveyResult, SurveyStats


Row = tuple[int | bool | None, ...]


def correlated_rows(n: int, seed: int = 20240506) -> list[Row]:
    """Rows whose items cluster around each customer's overall level."""
    rng = random.Random(seed)
    levels = rng.choices([2, 3, 4, 5], weights=[1, 3, 6, 4], k=n)
    noise = (-1, 0, 0, 0, 1)
    rows: list[Row] = []
    append = rows.append
    for level in levels:
        items: list[int | None] = [min(5, max(1, level + rng.choice(noise))) for _ in range(5)]
        if rng.random() < 0.03:
            items[rng.randrange(5)] = None
        nps = min(10, max(0, 2 * level + rng.choice((-1, 0, 0, 1))))
        repurchased = rng.random() < 0.2 * level
        recommends = None if rng.random() < 0.1 else rng.random() < 0.18 * level
        append((*items, nps, repurchased, recommends))
    return rows


def uniform_rows(n: int, seed: int = 20240506) -> list[Row]:
    """Rows whose every value is drawn independently (nearly all rows distinct)."""
    rng = random.Random(seed)
    r = rng.randint
    return [
        (r(1, 5), r(1, 5), r(1, 5), r(1, 5), r(1, 5), r(0, 10), r(0, 1) == 1, r(0, 1) == 1)
        for _ in range(n)
    ]


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed_pair(
    baseline: Callable[[], object], candidate: Callable[[], object], repeats: int
) -> tuple[float, float, float]:
    """Median times of two functions run alternately, and the median of the paired ratios.

    Alternating keeps both sides under the same machine load, so the ratio stays honest
    on a busy machine.
    """
    base_times: list[float] = []
    times: list[float] = []
    for _ in range(repeats):
        for fn, out in ((baseline, base_times), (candidate, times)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    ratios = [mine / base for base, mine in zip(base_times, times, strict=True)]
    return statistics.median(base_times), statistics.median(times), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="answer rows (default 1e6)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--uniform", action="store_true", help="independent values")
    parser.add_argument("--quick", action="store_true", help="100,000 rows, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.n = 100_000

    survey = Survey.supplier("bench")
    rows = (uniform_rows if args.uniform else correlated_rows)(args.n)
    split = [(row[:5], row[5], row[6], row[7]) for row in rows]
    distinct = len(set(rows))

    def counter_c() -> object:
        return Counter(rows)

    def stats_rows() -> SurveyResult:
        stats = SurveyStats(survey)
        stats.add_rows(rows)
        return stats.result()

    def counter_loop() -> object:
        counts: Counter[object] = Counter()
        for item in split:
            counts[item] += 1
        return counts

    def stats_scores() -> SurveyResult:
        stats = SurveyStats(survey)
        add = stats.add_scores
        for ratings, nps, repurchased, recommends in split:
            add(ratings, nps=nps, repurchased=repurchased, would_recommend=recommends)
        return stats.result()

    keys = survey.item_keys
    at = datetime(2024, 5, 6, tzinfo=UTC)
    responses = [
        SurveyResponse(
            id=f"R{i}",
            survey_id=survey.id,
            customer_id=f"C{i}",
            answered_at=at,
            ratings={k: v for k, v in zip(keys, row[:5], strict=True) if v is not None},
            nps_score=row[5],  # type: ignore[arg-type]
            repurchased=row[6],  # type: ignore[arg-type]
            would_recommend=row[7],  # type: ignore[arg-type]
        )
        for i, row in enumerate(rows[: max(1, args.n // 10)])
    ]

    def stats_responses() -> object:
        stats = SurveyStats(survey)
        for response in responses:
            stats.add(response)
        return stats.result()

    fast = stats_rows()
    assert fast == stats_scores(), "the fast path and the per-response path disagree"

    pairs = [
        ("Counter(rows)", counter_c, "SurveyStats.add_rows + result", stats_rows, args.n),
        (
            "for: counter[row] += 1",
            counter_loop,
            "SurveyStats.add_scores loop",
            stats_scores,
            args.n,
        ),
    ]
    kind = "uniform" if args.uniform else "correlated"
    print(f"{args.n:,} rows ({kind}, {distinct:,} distinct), median of {args.repeats} runs\n")
    print(f"{'baseline':<26} {'s':>8}   {'SurveyStats':<32} {'s':>8} {'ns/row':>8} {'ratio':>6}")
    for base_name, base_fn, name, fn, n in pairs:
        base, mine, ratio = timed_pair(base_fn, fn, args.repeats)
        print(
            f"{base_name:<26} {base:8.3f}   {name:<32} {mine:8.3f} "
            f"{mine / n * 1e9:8.0f} {ratio:6.2f}"
        )
    per_response = median_time(stats_responses, args.repeats)
    print(
        f"\nSurveyStats.add(SurveyResponse), {len(responses):,} responses: "
        f"{per_response:.3f} s, {per_response / len(responses) * 1e6:.2f} us/response"
    )
    result = fast
    print(
        f"\nCSAT {result.csat} %  NPS {result.nps}  index {result.index}  "
        f"satisfied {result.satisfied_share} %  unanimity flag {result.suspicious_unanimity}"
    )


if __name__ == "__main__":
    main()
