"""A writer killed with SIGKILL at any moment never leaves half a unit of work behind.

Child processes commit numbered units of work to a SQLite store through
:class:`~csdomain.store.UnitOfWork`: each unit writes three related documents of three
kinds (payloads of random size, so a commit spans several pages), one outbox entry and one
counter increment, and the child reports the unit's number to a file after the commit
returned. The test kills each child with SIGKILL after a random delay (while it opens the
store, creates the tables, writes, commits or checkpoints) and then checks, with a freshly
opened store, that:

- the file passes ``PRAGMA integrity_check``;
- every reported unit is fully present;
- no unit is half-present: the counter, the three kinds and the outbox hold the same
  number of units, and every unit found has all its parts, intact;
- counter values were handed out without gaps or repeats.

The number of kills is ``CSDOMAIN_CRASH_KILLS`` (default 200; ``nox -s soak`` raises it),
spread over four store files with different journal settings; ``CSDOMAIN_CRASH_SEED``
replays a run. Children are forked from a small server process that has already imported
csdomain, so each new child starts in a few milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from csdomain.events import Event
from csdomain.store import OUTBOX, Index, Kind, KindRegistry, Store
from csdomain_sqlite import SqliteBackend


KILLS = int(os.environ.get("CSDOMAIN_CRASH_KILLS", "200"))
SEED = int(os.environ.get("CSDOMAIN_CRASH_SEED", str(int.from_bytes(os.urandom(4), "big"))))
#: Journal settings of the store files the kills are spread over (the default first).
SETTINGS = (
    {"journal_mode": "wal", "synchronous": "normal"},
    {"journal_mode": "wal", "synchronous": "full"},
    {"journal_mode": "delete", "synchronous": "normal"},
    {"journal_mode": "truncate", "synchronous": "full"},
)
COUNTER = "crash.units"
#: Share of early kills and their longest delay (seconds): start-up, first commits.
EARLY_SHARE = 0.4
EARLY_DELAY = 0.02
#: Late kills wait for up to this many reported units, then strike within LATE_DELAY.
LATE_UNITS = 4
LATE_DELAY = 0.004
TIMEOUT = 30.0
T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)
UNITS_PER_CHILD = 1_000_000


@attrs.frozen
class Piece:
    """One of the three documents of a unit; ``checksum`` guards its payload."""

    id: str
    unit: int
    serial: int
    payload: str
    checksum: str


@attrs.frozen
class CrashUnitCommitted(Event):
    """The outbox entry of a unit."""

    unit: int
    serial: int


def _piece_kind(name: str) -> Kind[Piece]:
    return Kind(name, Piece, indexes=[Index("unit", "integer"), Index("serial", "integer")])


KINDS = KindRegistry()
KINDS.register(OUTBOX)
PARTS = tuple(
    KINDS.register(_piece_kind(name)) for name in ("crash_head", "crash_line", "crash_tail")
)


def piece(unit: int, serial: int, rng: random.Random) -> Piece:
    payload = rng.randbytes(rng.randrange(16, 3000)).hex()
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return Piece(f"{unit:09d}", unit, serial, payload, digest)


def open_crash_store(path: Path, settings: dict[str, str]) -> Store:
    return Store(SqliteBackend(path, **settings), kinds=KINDS)  # type: ignore[arg-type]


# -- the child and the server that forks children -----------------------------------------------


def commit_units(path: Path, settings: dict[str, str], report: Path, first: int) -> None:
    """Child: commit units ``first, first + 1, ...`` until killed, reporting each one."""
    rng = random.Random(first)
    store = open_crash_store(path, settings)
    out = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    for unit in range(first, first + UNITS_PER_CHILD):
        with store.unit_of_work() as uow:
            serial = uow.next_counter(COUNTER)
            for kind in PARTS:
                uow.repo(kind).add(piece(unit, serial, rng))
            uow.emit(CrashUnitCommitted(unit, serial), at=T0 + timedelta(seconds=serial))
        os.write(out, f"{unit}\n".encode())


def serve() -> None:
    """The server: for each ``run`` request fork a child, report its pid and its end."""
    for line in sys.stdin:
        command, *args = line.split()
        if command == "quit":
            return
        path, journal, synchronous, report, first = args
        settings = {"journal_mode": journal, "synchronous": synchronous}
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                commit_units(Path(path), settings, Path(report), int(first))
            except BaseException:
                traceback.print_exc()
                status = 3
            finally:
                os._exit(status)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {pid} {status}", flush=True)


class Server:
    """The test's handle on the server process (line protocol over its stdin/stdout)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.buffer = b""

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def read(self) -> list[str]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + TIMEOUT
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                msg = "the crash-test server did not answer"
                raise TimeoutError(msg)
            chunk = os.read(fd, 4096)
            if not chunk:
                msg = f"the crash-test server ended (exit {self.process.wait()})"
                raise RuntimeError(msg)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().split()

    def close(self) -> None:
        if self.process.poll() is None:
            self.send("quit")
            try:
                self.process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A directory for the store files: in RAM (/dev/shm) when there is one, so that
    commits do not wait for the disk; a process crash does not care where the file is."""
    shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside RAM-backed storage
    if not shm.is_dir():
        yield tmp_path
        return
    made = Path(tempfile.mkdtemp(prefix="csdomain-crash-", dir=shm))
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def server() -> Iterator[Server]:
    started = Server()
    yield started
    started.close()


# -- checking a store after a kill --------------------------------------------------------------


@attrs.define
class Ledger:
    """What the checks have verified so far in one store file."""

    units: int = 0
    reported: set[int] = attrs.Factory(set)


def reported_units(report: Path) -> set[int]:
    if not report.exists():
        return set()
    text = report.read_text()
    complete = text if text.endswith("\n") else text.rsplit("\n", 1)[0]
    return {int(line) for line in complete.split()}


def counter_value(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM csdomain_counters WHERE name = ?", (COUNTER,))
        found = row.fetchone()
    return 0 if found is None else int(found[0])


def check_store(path: Path, settings: dict[str, str], report: Path, ledger: Ledger) -> str:
    """Everything the module docstring promises; returns a problem, or ``""``."""
    store = open_crash_store(path, settings)
    try:
        backend = store.backend
        assert isinstance(backend, SqliteBackend)
        problems = backend.integrity_check()
        if problems:
            return f"integrity check failed: {problems[:3]}"
        total = counter_value(path)
        with store.unit_of_work(readonly=True) as uow:
            counted: list[Kind[Any]] = [*PARTS, OUTBOX]
            counts = [uow.repo(kind).count() for kind in counted]
            if counts != [total] * 4:
                return f"counter {total} but head/line/tail/outbox counts {counts}"
            new = {kind.name: uow.repo(kind).find(serial__gt=ledger.units) for kind in PARTS}
            entries = uow.outbox.find(created_at__gt=T0 + timedelta(seconds=ledger.units))
            heads = new[PARTS[0].name]
            serials = sorted(p.serial for p in heads)
            if serials != list(range(ledger.units + 1, total + 1)):
                return f"counter values {serials} after {ledger.units} are not 1, 2, 3 ..."
            units = {p.unit for p in heads}
            for kind in PARTS:
                pieces = new[kind.name]
                if {p.unit for p in pieces} != units:
                    return f"{kind.name} lacks parts of units {sorted(units)}"
                for p in pieces:
                    if hashlib.sha256(p.payload.encode()).hexdigest() != p.checksum:
                        return f"{kind.name} {p.id} has a damaged payload"
            events = {(e.event().unit, e.event().serial) for e in entries}  # type: ignore[attr-defined]
            if events != {(p.unit, p.serial) for p in heads}:
                return f"outbox entries {sorted(events)} do not match the units"
            reported = reported_units(report)
            for unit in sorted(reported - ledger.reported):
                if not uow.repo(PARTS[0]).exists(f"{unit:09d}"):
                    return f"unit {unit} was reported as committed but is missing"
        ledger.units = total
        ledger.reported = reported
        return ""
    finally:
        store.close()


def reports_since(report: Path, offset: int) -> int:
    """How many units were reported after byte ``offset`` of the report file."""
    try:
        with report.open("rb") as source:
            source.seek(offset)
            return source.read().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_once(server: Server, rng: random.Random, request: str, report: Path) -> int:
    """Start a child and kill it; returns its exit status.

    Early kills come after a random delay (opening the store, creating tables, the first
    commits); late kills wait until the child has reported a few units and then strike
    within a few milliseconds, in the middle of a later unit of work.
    """
    offset = report.stat().st_size if report.exists() else 0
    server.send(request)
    kind, pid = server.read()
    assert kind == "pid"
    if rng.random() < EARLY_SHARE:
        time.sleep(rng.uniform(0, EARLY_DELAY))
    else:
        wanted = rng.randint(1, LATE_UNITS)
        deadline = time.monotonic() + TIMEOUT
        while reports_since(report, offset) < wanted:
            assert time.monotonic() < deadline, f"child {pid} reported no progress"
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, LATE_DELAY))
    os.kill(int(pid), signal.SIGKILL)
    kind, ended, status = server.read()
    assert (kind, ended) == ("exit", pid)
    return int(status)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork() for fast child processes")
def test_a_killed_writer_never_leaves_half_a_unit_of_work(server: Server, folder: Path) -> None:
    rng = random.Random(SEED)
    assert len(SETTINGS) <= KILLS
    kills = 0
    for round_number, settings in enumerate(SETTINGS):
        path = folder / f"crash-{round_number}.db"
        report = folder / f"crash-{round_number}.units"
        ledger = Ledger()
        share = KILLS // len(SETTINGS) + (round_number < KILLS % len(SETTINGS))
        for child in range(share):
            first = child * UNITS_PER_CHILD
            request = (
                f"run {path} {settings['journal_mode']} {settings['synchronous']} {report} {first}"
            )
            status = kill_once(server, rng, request, report)
            context = f"seed {SEED}, {settings}, child {child}"
            assert os.WIFSIGNALED(status), f"child ended on its own ({status}); {context}"
            assert os.WTERMSIG(status) == signal.SIGKILL, context
            kills += 1
            problem = check_store(path, settings, report, ledger)
            assert problem == "", f"{problem} ({context})"
        assert ledger.units > 0, f"no unit was ever committed ({settings}, seed {SEED})"
    assert kills == KILLS


if __name__ == "__main__":
    serve()
