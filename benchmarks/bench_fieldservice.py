"""Technician suggestions: ``ServiceDesk.suggest_technicians`` on SQLite against a hand-written
version of the same query.

Run with ``nox -s bench`` (or ``python benchmarks/bench_fieldservice.py [--quick]``).

The store holds 500 technicians (25 districts of 4 service areas; 20 technicians a
district, each covering 2 areas, half of them with the electronics skill, some on leave)
and 10,000 open jobs booked over the next week (the technicians' days fill up to their
capacity of 6), on a SQLite file. Each call suggests technicians for one triaged repair
that needs ``repair`` and ``electronics``, in a different district each time: the desk
loads the job, reads the district's technicians, counts the jobs each eligible one holds
per day and in hand, and ranks them with their reasons. The target is a median of at
most 5 ms per call.

The baseline is what a competent developer would write by hand on the same database
layout (a copy of the same rows in plain tables with the same indexes): the job and the
district's technicians decoded with the same converter, the same eligibility checks, one
grouped ``COUNT(*)`` over the planning window and one for the jobs in hand, then the same
earliest-slot and ranking on the same calendar, without reasons. The ratio says what the
desk's skeleton (argument checks, permission, unit of work, typed repositories) and its
explanations cost on top.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson

from csdomain.auth import Actor
from csdomain.calendar import BusinessCalendar
from csdomain.clock import FixedClock
from csdomain.complaints import ComplaintPolicy, ComplaintUrgency
from csdomain.fieldservice import (
    FIELD_SERVICE_TEAM,
    Dispatch,
    FieldServicePolicy,
    ServiceOrder,
    ServiceOrderKind,
    ServiceOrderSource,
    Technician,
    TriageResult,
)
from csdomain.kinds import SERVICE_ORDERS, TECHNICIANS
from csdomain.serialization import converter
from csdomain.service import ServiceDesk
from csdomain.store import open_store


sys.path.insert(0, str(Path(__file__).parent))
from _harness import Result, arguments, print_table


#: Monday 2026-11-02 09:00 in Asia/Shanghai.
NOW = datetime(2026, 11, 2, 1, tzinfo=UTC)
OFFICE = BusinessCalendar.office("Asia/Shanghai")
POLICY = FieldServicePolicy()
DISPATCHER = Actor("disp-1", frozenset({"call_team"}))
NEEDED = frozenset({"repair", "electronics"})
TECH_STRUCTURE = converter.get_structure_hook(Technician)
ORDER_STRUCTURE = converter.get_structure_hook(ServiceOrder)
TECH_UNSTRUCTURE = converter.get_unstructure_hook(Technician)
ORDER_UNSTRUCTURE = converter.get_unstructure_hook(ServiceOrder)


def make_technicians(districts: int, per_district: int, rng: random.Random) -> list[Technician]:
    """``per_district`` technicians in each district, each covering 2 of its 4 areas."""
    team = []
    for d in range(districts):
        for t in range(per_district):
            first = t % 4
            leave = {NOW.date() + timedelta(days=rng.randrange(7))} if rng.random() < 0.1 else set()
            team.append(
                Technician(
                    id=f"T-{d:02d}-{t:02d}",
                    name=f"technician {d}-{t}",
                    service_point_id=f"SP-{d:02d}",
                    district=f"D{d:02d}",
                    skills={"repair", "electronics"} if t % 2 == 0 else {"repair"},
                    service_areas={f"A{d:02d}-{first}", f"A{d:02d}-{(first + 1) % 4}"},
                    daily_capacity=6,
                    calendar=OFFICE,
                    blackout_days=leave,
                )
            )
    return team


def _job(number: int, district: int, area: str) -> ServiceOrder:
    return ServiceOrder.open(
        id=f"SJ-202611-{number:05d}",
        kind=ServiceOrderKind.REPAIR,
        source=ServiceOrderSource.CALL,
        customer_id=f"CU-{number:06d}",
        product_serial=f"SN-{number:06d}",
        model="TV-55",
        address="Luoyu Rd 1",
        service_area_id=area,
        district=f"D{district:02d}",
        urgency=ComplaintUrgency.URGENT,
        in_warranty=True,
        at=NOW - timedelta(hours=1),
        by=DISPATCHER,
        policy=POLICY,
        complaints=ComplaintPolicy(),
        calendar=OFFICE,
        symptoms=["no power"],
    )


def _triage(skills: frozenset[str] = NEEDED) -> TriageResult:
    return TriageResult(symptoms=("no power",), skills=skills)


def make_open_jobs(team: list[Technician], count: int, rng: random.Random) -> list[ServiceOrder]:
    """``count`` jobs booked to the technicians over the week, never past a day's capacity."""
    booked: dict[tuple[str, date], int] = {}
    jobs: list[ServiceOrder] = []
    triage = _triage(frozenset({"repair"}))
    while len(jobs) < count:
        who = rng.choice(team)
        day = NOW.date() + timedelta(days=rng.randrange(7))
        if booked.get((who.id, day), 0) >= who.daily_capacity or day in who.blackout_days:
            continue
        booked[(who.id, day)] = booked.get((who.id, day), 0) + 1
        district = int(who.district[1:])
        area = sorted(who.service_areas)[0]
        order = _job(len(jobs) + 1, district, area).triaged(
            triage, at=NOW - timedelta(minutes=50), by=DISPATCHER
        )
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=2)
        dispatch = Dispatch(
            technician_id=who.id,
            service_point_id=who.service_point_id,
            window_start=start,
            window_end=start + POLICY.visit_window,
            day=day,
            at=NOW - timedelta(minutes=40),
            by=DISPATCHER.id,
        )
        jobs.append(order.dispatched(dispatch, who, by=DISPATCHER))
    return jobs


def make_new_jobs(districts: int, count: int) -> list[ServiceOrder]:
    """Triaged repairs waiting for a technician, one district after another."""
    triage = _triage()
    return [
        _job(90_000 + i, i % districts, f"A{i % districts:02d}-{i % 4}").triaged(
            triage, at=NOW - timedelta(minutes=30), by=DISPATCHER
        )
        for i in range(count)
    ]


# -- the hand-written baseline -------------------------------------------------------------------


def raw_database(
    path: Path, team: list[Technician], jobs: list[ServiceOrder]
) -> sqlite3.Connection:
    """The same rows in plain tables with the same indexes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE tech (key TEXT PRIMARY KEY, doc BLOB, i_district TEXT)")
    conn.execute("CREATE INDEX tech_district ON tech (i_district)")
    conn.execute("CREATE TABLE job (key TEXT PRIMARY KEY, doc BLOB, i_booked TEXT, i_day TEXT)")
    conn.execute("CREATE INDEX job_booked_day ON job (i_booked, i_day)")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO tech VALUES (?, ?, ?)",
        [(t.id, orjson.dumps(TECH_UNSTRUCTURE(t)), t.district) for t in team],
    )
    rows = []
    for job in jobs:
        values = SERVICE_ORDERS.index_values(job)
        rows.append(
            (
                job.id,
                orjson.dumps(ORDER_UNSTRUCTURE(job)),
                values["booked_technician"],
                values["visit_day"],
            )
        )
    conn.executemany("INSERT INTO job VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    return conn


def hand_written(
    conn: sqlite3.Connection, job_id: str, now: datetime
) -> list[tuple[str, datetime]]:
    """The ranked ``(technician, earliest visit)`` of one job, by hand."""
    (doc,) = conn.execute("SELECT doc FROM job WHERE key = ?", (job_id,)).fetchone()
    job = ORDER_STRUCTURE(orjson.loads(doc), ServiceOrder)
    needed = job.triage.skills if job.triage is not None else frozenset()
    team = [
        TECH_STRUCTURE(orjson.loads(d), Technician)
        for (d,) in conn.execute(
            "SELECT doc FROM tech WHERE i_district = ? ORDER BY key", (job.district,)
        )
    ]
    eligible = [
        t
        for t in team
        if t.active and needed <= t.skills and job.service_area_id in t.service_areas
    ]
    if not eligible:
        return []
    marks = ", ".join("?" for _ in eligible)
    ids = [t.id for t in eligible]
    first = now.astimezone(OFFICE.zone).date()
    last = first + timedelta(days=POLICY.planning_days)
    per_day = {
        (who, day): n
        for who, day, n in conn.execute(
            f"SELECT i_booked, i_day, COUNT(*) FROM job WHERE i_booked IN ({marks}) "
            "AND i_day >= ? AND i_day < ? GROUP BY i_booked, i_day",
            [*ids, first.isoformat(), last.isoformat()],
        )
    }
    in_hand = dict(
        conn.execute(
            f"SELECT i_booked, COUNT(*) FROM job WHERE i_booked IN ({marks}) GROUP BY i_booked", ids
        ).fetchall()
    )
    ranked = []
    for t in eligible:
        calendar = t.calendar or OFFICE
        for offset in range(POLICY.planning_days):
            day = first + timedelta(days=offset)
            if (
                day in t.blackout_days
                or per_day.get((t.id, day.isoformat()), 0) >= t.daily_capacity
            ):
                continue
            opening = next((b for b, e in calendar.intervals_on(day) if e > now), None)
            if opening is None:
                continue
            visit = max(opening, now)
            ranked.append(
                (
                    visit > job.on_site_by,
                    visit,
                    per_day.get((t.id, day.isoformat()), 0),
                    in_hand.get(t.id, 0),
                    t.id,
                )
            )
            break
    ranked.sort()
    return [(key[4], key[1]) for key in ranked[: POLICY.suggestion_limit]]


def main() -> None:
    args = arguments(__doc__ or "")
    districts, per_district, open_jobs = (5, 20, 1_000) if args.quick else (25, 20, 10_000)
    calls = 50 if args.quick else 200
    rng = random.Random(20261102)
    team = make_technicians(districts, per_district, rng)
    booked = make_open_jobs(team, open_jobs, rng)
    waiting = make_new_jobs(districts, calls)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/fieldservice.db")
        with store.unit_of_work() as uow:
            uow.repo(TECHNICIANS).add_many(team)
            uow.repo(SERVICE_ORDERS).add_many([*booked, *waiting])
        desk = ServiceDesk(
            store, clock=FixedClock(NOW), team_calendars={FIELD_SERVICE_TEAM: OFFICE}
        )
        conn = raw_database(Path(tmp) / "raw.db", team, [*booked, *waiting])
        ids = [job.id for job in waiting]
        for job_id in ids[:20]:  # the same answer, and warm caches on both sides
            ours = desk.suggest_technicians(job_id, by=DISPATCHER)
            theirs = hand_written(conn, job_id, NOW)
            assert [(c.technician_id, c.visit_at) for c in ours.candidates] == theirs, job_id
        ours_times: list[float] = []
        base_times: list[float] = []
        for _ in range(args.repeats):
            for job_id in ids:
                start = time.perf_counter()
                desk.suggest_technicians(job_id, by=DISPATCHER)
                ours_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                hand_written(conn, job_id, NOW)
                base_times.append(time.perf_counter() - start)
        conn.close()
        store.close()
    ours_median = statistics.median(ours_times)
    base_median = statistics.median(base_times)
    size = f"{len(team)} technicians, {open_jobs:,} open jobs"
    print(
        f"\nsuggest_technicians, {size}: median {ours_median * 1000:.2f} ms "
        f"(p90 {statistics.quantiles(ours_times, n=10)[-1] * 1000:.2f} ms) over "
        f"{len(ours_times)} calls; target <= 5 ms: {'met' if ours_median <= 0.005 else 'MISSED'}"
    )
    print_table(
        "Field service: suggest_technicians on SQLite",
        [
            Result(
                f"suggest_technicians ({size})", ours_median, base_median, 3.0, "hand-written SQL"
            ),
        ],
    )


if __name__ == "__main__":
    main()
