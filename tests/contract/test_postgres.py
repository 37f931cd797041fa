"""The PostgreSQL backend runs the whole conformance kit, plus its own extras.

Every store lives in a schema of its own on one server: a throwaway cluster this session
starts (``csdomain_postgres.testing``) or ``$CSDOMAIN_POSTGRES_URL``. Without a server the
tests are skipped with the reason; under ``$CSDOMAIN_REQUIRE_POSTGRES`` they fail instead.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

import csdomain.plugins
from csdomain.cli import main as cli_main
from csdomain.demo import build_demo
from csdomain.errors import (
    AlreadyExists,
    BackendUnavailable,
    ConcurrencyConflict,
    ValidationError,
)
from csdomain.store import OUTBOX, Index, Kind, Store, open_store
from csdomain.testing import BackendConformance
from csdomain.testing.conformance import SPECIMENS, SpecimenRecorded, specimen
from csdomain.transfer import export_store, import_store
from csdomain_postgres.testing import url_or_skip


_RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()
#: URLs with credentials of the stores opened here, by their credential-free URL.
_FULL_URLS: dict[str, str] = {}
_SCHEMAS: list[str] = []


def _plugin_manager() -> Any:
    """The default plugins, plus this backend until the entry point is installed."""
    import csdomain_postgres

    pm = csdomain.plugins.get_plugin_manager()
    if not pm.is_registered(csdomain_postgres) and pm.get_plugin("postgres") is None:
        pm.register(csdomain_postgres, name="postgres")
    return pm


def _with_query(url: str, **options: object) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + "&".join(f"{k}={v}" for k, v in options.items())


def fresh_store(base: str, **options: object) -> Store:
    """A store in a new, empty schema on the server at ``base``."""
    schema = f"t{_RUN}_{next(_numbers)}"
    _SCHEMAS.append(schema)
    url = _with_query(base, schema=schema, **options)
    store = open_store(url, plugin_manager=_plugin_manager())
    _FULL_URLS[store.url] = url
    return store


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The server's URL; on a server of your own the schemas made here are dropped after
    (a throwaway cluster is deleted whole at exit)."""
    base = url_or_skip()
    yield base
    if _SCHEMAS and os.environ.get("CSDOMAIN_POSTGRES_URL"):
        import psycopg

        names = ", ".join(f'"{schema}"' for schema in _SCHEMAS)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")
    _SCHEMAS.clear()


class TestPostgresBackend(BackendConformance):
    persistent = True
    overlap_wait = 0.5

    @pytest.fixture(autouse=True)
    def _server(self, server: str) -> None:
        self.base = server

    def make_store(self) -> Store:
        return fresh_store(self.base)

    def reopen_store(self, store: Store) -> Store | None:
        url = _FULL_URLS[store.url]
        store.close()
        return open_store(url, plugin_manager=_plugin_manager())

    @pytest.mark.slow
    def test_agrees_with_a_dict_model(self) -> None:
        """A server round trip per statement makes the state machine slow here."""
        super().test_agrees_with_a_dict_model()


# -- the plugin and its URL ------------------------------------------------------------------


def test_hook_answers_only_postgresql_schemes() -> None:
    import csdomain_postgres

    assert csdomain_postgres.csdomain_open_store(url="sqlite://") is None
    assert csdomain_postgres.csdomain_open_store(url="postgresqlx://h/db") is None
    assert csdomain_postgres.SCHEMES == ("postgresql", "postgres")


def test_importing_the_plugin_imports_no_driver() -> None:
    import subprocess
    import sys

    code = "import sys, csdomain_postgres; print('psycopg' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "False", result.stderr


def test_bad_url_options_are_validation_errors() -> None:
    from csdomain_postgres.backend import PostgresBackend

    for url in (
        "postgresql://h/db?pool_size=0",
        "postgresql://h/db?pool_size=many",
        "postgresql://h/db?schema=Bad-Name",
        "postgresql://h/db?colour=blue",
        "postgresql://h:99999/db",
        "mysql://h/db",
    ):
        with pytest.raises(ValidationError):
            PostgresBackend.from_url(url)


def test_a_server_that_is_down_is_backend_unavailable_without_credentials() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://alice:s3cret-pw@127.0.0.1:{port}/cs?connect_timeout=2"
    with pytest.raises(BackendUnavailable) as info:
        open_store(url, plugin_manager=_plugin_manager())
    message = str(info.value)
    assert f"127.0.0.1:{port}/cs" in message
    assert "s3cret-pw" not in message
    assert "alice" not in message


def test_wrong_credentials_are_backend_unavailable_without_credentials(server: str) -> None:
    import psycopg.conninfo

    params = psycopg.conninfo.conninfo_to_dict(server)
    wrong = f"postgresql://{params['user']}:not-the-Password@{params['host']}:{params['port']}/x"
    with pytest.raises(BackendUnavailable) as info:
        open_store(wrong, plugin_manager=_plugin_manager())
    message = str(info.value)
    assert "not-the-Password" not in message
    assert f'"{params["user"]}"' not in message
    assert "refused the login" in message


def test_the_store_url_has_no_password(server: str) -> None:
    store = fresh_store(server, pool_size=3)
    try:
        assert store.url.startswith("postgresql://")
        assert "pool_size=3" in store.url
        assert "schema=t" in store.url
        password = store.url.partition("@")[0].partition("//")[2]
        assert ":" not in password
    finally:
        store.close()


# -- PostgreSQL specifics -----------------------------------------------------------------------


def test_index_columns_are_typed_and_indexed(server: str) -> None:
    import psycopg

    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        schema = store.url.partition("schema=")[2].partition("&")[0]
        with psycopg.connect(server) as conn:
            columns = dict(
                conn.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = 'k_kit_specimen'",
                    (schema,),
                ).fetchall()
            )
            indexes = {
                row[0]
                for row in conn.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
                )
            }
            label = conn.execute(
                f"SELECT doc->>'label' FROM \"{schema}\".k_kit_specimen"
            ).fetchone()
        assert columns["doc"] == "jsonb"
        assert columns["i_rank"] == "bigint"
        assert columns["i_score"] == "double precision"
        assert columns["i_label"] == "text"
        assert {"x_kit_specimen_label", "x_kit_specimen_group_rank"} <= indexes
        assert label == ("label-1",)
    finally:
        store.close()


def test_text_sorts_by_code_point_whatever_the_database_collation(server: str) -> None:
    store = fresh_store(server)
    labels = ["b", "B", "a", "Ä", "_", "a\x00", "a\x01", "a\x01\x02", "客"]
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n, label=t) for n, t in enumerate(labels))
        with store.unit_of_work(readonly=True) as uow:
            found = [s.label for s in uow.repo(SPECIMENS).find(order_by="label")]
            after_a = [s.label for s in uow.repo(SPECIMENS).find(label__gt="a", order_by="label")]
        assert found == sorted(labels)
        assert after_a == sorted(t for t in labels if t > "a")
    finally:
        store.close()


def test_keys_and_counter_names_with_nul_are_stored_verbatim(server: str) -> None:
    store = fresh_store(server)
    try:
        odd = attrs.evolve(specimen(1), id="s\x00\x01odd")
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many([odd, specimen(2)])
            assert uow.next_counter("n\x00") == 1
            assert uow.next_counter("n") == 1
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(SPECIMENS).get(odd.id) == odd
            assert [s.id for s in uow.repo(SPECIMENS).find(key__lt="s0")] == [odd.id]
    finally:
        store.close()


def test_a_taken_key_does_not_abort_the_transaction(server: str) -> None:
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            with pytest.raises(AlreadyExists) as info:
                repo.add_many([specimen(3), specimen(1)])
            assert info.value.key == "s000001"
            repo.add(specimen(2))
        with store.unit_of_work(readonly=True) as uow:
            assert [s.id for s in uow.repo(SPECIMENS).find()] == [
                "s000001",
                "s000002",
                "s000003",
            ]
    finally:
        store.close()


def test_a_key_taken_after_the_snapshot_is_a_conflict_then_already_exists(
    server: str,
) -> None:
    store = fresh_store(server)
    try:
        late = store.unit_of_work().__enter__()
        late.repo(SPECIMENS).count()
        with store.unit_of_work() as early:
            early.repo(SPECIMENS).add(specimen(1))
        with pytest.raises(ConcurrencyConflict):
            late.repo(SPECIMENS).add(specimen(1, note="late"))
        late.__exit__(ConcurrencyConflict, None, None)
        with pytest.raises(AlreadyExists), store.unit_of_work() as retry:
            retry.repo(SPECIMENS).add(specimen(1, note="late"))
    finally:
        store.close()


def test_a_concurrent_update_is_a_conflict_and_the_unit_of_work_cannot_commit(
    server: str,
) -> None:
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        first = store.unit_of_work().__enter__()
        repo = first.repo(SPECIMENS)
        current = repo.get("s000001")
        with store.unit_of_work() as second:
            other = second.repo(SPECIMENS)
            other.update(attrs.evolve(other.get("s000001"), label="second"))
        with pytest.raises(ConcurrencyConflict):
            repo.update(attrs.evolve(current, label="first"))
        with pytest.raises(ConcurrencyConflict):
            repo.add(specimen(2))
        with pytest.raises(ConcurrencyConflict):
            first.__exit__(None, None, None)
        with store.unit_of_work(readonly=True) as uow:
            assert [s.label for s in uow.repo(SPECIMENS).find()] == ["second"]
    finally:
        store.close()


def test_long_scans_stream_and_interleave_with_other_reads(server: str) -> None:
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n) for n in range(1_234))
        with store.unit_of_work(readonly=True) as uow:
            repo = uow.repo(SPECIMENS)
            seen = []
            for item in repo.scan(order_by="-key"):
                if len(seen) % 400 == 0:
                    assert repo.get(item.id) == item
                    assert repo.count(rank=item.rank) == 123 + (item.rank < 4)
                seen.append(item.id)
            assert seen == [f"s{n:06d}" for n in reversed(range(1_234))]
            assert len(list(repo.scan(offset=1_000))) == 234
            first_two = [next(repo.scan()), next(repo.scan(order_by="-rank"))]
            assert [s.id for s in first_two] == ["s000000", "s000009"]
    finally:
        store.close()


def test_a_long_scan_sees_its_snapshot_while_the_unit_of_work_writes(server: str) -> None:
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n, label="todo") for n in range(1_234))
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            seen = []
            for item in repo.scan(label="todo"):
                repo.update(attrs.evolve(item, label="done"))
                seen.append(item.id)
        assert seen == [f"s{n:06d}" for n in range(1_234)]
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(SPECIMENS).count(label="done") == 1_234
    finally:
        store.close()


def test_claim_candidates_skip_rows_another_unit_of_work_holds(server: str) -> None:
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n) for n in range(6))
        with store.unit_of_work() as first:
            mine = first.repo(SPECIMENS).claim_candidates(order_by="key", limit=2)
            with store.unit_of_work() as second:
                theirs = second.repo(SPECIMENS).claim_candidates(order_by="key", limit=2)
                waiting = second.repo(SPECIMENS).claim_candidates(
                    key__in=[s.id for s in mine], limit=2
                )
        assert [s.id for s in mine] == ["s000000", "s000001"]
        assert [s.id for s in theirs] == ["s000002", "s000003"]
        assert waiting == []
    finally:
        store.close()


def test_claim_candidates_fall_back_to_find_without_row_locks() -> None:
    with open_store("memory://") as store:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n) for n in range(4))
        with store.unit_of_work() as first, store.unit_of_work() as second:
            mine = first.repo(SPECIMENS).claim_candidates(order_by="-key", limit=2)
            theirs = second.repo(SPECIMENS).claim_candidates(order_by="-key", limit=2)
        assert [s.id for s in mine] == [s.id for s in theirs] == ["s000003", "s000002"]
        with pytest.raises(ValidationError), store.unit_of_work(readonly=True) as uow:
            uow.repo(SPECIMENS).claim_candidates(limit=1)


def test_claim_candidates_need_a_writing_unit_of_work(server: str) -> None:
    store = fresh_store(server)
    try:
        with pytest.raises(ValidationError), store.unit_of_work(readonly=True) as uow:
            uow.repo(SPECIMENS).claim_candidates(limit=1)
    finally:
        store.close()


def test_a_changed_index_type_is_migrated(server: str) -> None:
    store = fresh_store(server)
    url = _FULL_URLS[store.url]
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many(specimen(n) for n in range(5))
    finally:
        store.close()
    retyped = Kind(
        "kit_specimen",
        SPECIMENS.cls,
        indexes=[i for i in SPECIMENS.indexes if i.name != "rank"]
        + [Index("rank", "text", lambda s: f"r{s.rank}")],
    )
    store = open_store(url, plugin_manager=_plugin_manager())
    try:
        with store.unit_of_work(readonly=True) as uow:
            assert [s.id for s in uow.repo(retyped).find(rank="r3")] == ["s000003"]
            assert uow.repo(retyped).count(rank__in=["r1", "r2"]) == 2
    finally:
        store.close()


def test_four_stores_set_up_one_schema_at_once(server: str) -> None:
    schema = f"t{_RUN}_race"
    _SCHEMAS.append(schema)
    url = _with_query(server, schema=schema)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_and_write(n: int) -> None:
        try:
            barrier.wait(10)
            store = open_store(url, plugin_manager=_plugin_manager())
            try:
                with store.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(specimen(n))
            finally:
                store.close()
        except BaseException as err:  # reported to the main thread
            errors.append(err)

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = open_store(url, plugin_manager=_plugin_manager())
    try:
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(SPECIMENS).count() == 4
    finally:
        store.close()


def test_a_dispatcher_is_woken_when_the_outbox_is_written(server: str) -> None:
    store = fresh_store(server)
    try:
        backend: Any = store.backend
        assert backend.wait_for_work(0.05) is False
        woke: list[float] = []

        def wait() -> None:
            start = time.monotonic()
            if backend.wait_for_work(10):
                woke.append(time.monotonic() - start)

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.2)
        with store.unit_of_work() as uow:
            uow.emit(SpecimenRecorded("s1", datetime(2026, 1, 1, tzinfo=UTC)))
        waiter.join(10)
        assert len(woke) == 1
        assert woke[0] < 5
        with store.unit_of_work() as uow:
            assert uow.repo(OUTBOX).count() == 1
    finally:
        store.close()


def test_a_closed_store_is_unavailable(server: str) -> None:
    store = fresh_store(server)
    store.close()
    with pytest.raises(BackendUnavailable):
        store.unit_of_work().__enter__()


# -- export and import ---------------------------------------------------------------------------


def _export(store: Store) -> bytes:
    out = io.BytesIO()
    export_store(store, out)
    return out.getvalue()


def test_sqlite_to_postgresql_to_export_is_byte_identical_to_the_sqlite_export(
    server: str, tmp_path: Path
) -> None:
    """Rule: a store moves between backends with nothing lost (issue #14)."""
    with open_store(f"sqlite:///{tmp_path / 'demo.db'}") as sqlite:
        build_demo(sqlite)
        from_sqlite = _export(sqlite)
    store = fresh_store(server)
    try:
        summary = import_store(store, io.BytesIO(from_sqlite))
        assert summary.total > 100
        assert _export(store) == from_sqlite
    finally:
        store.close()
    with open_store("memory://") as memory:
        import_store(memory, io.BytesIO(from_sqlite))
        assert _export(memory) == from_sqlite


def test_the_export_and_import_commands_work_on_postgresql(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: ``csdomain export`` works on PostgreSQL (issue #14)."""
    source = fresh_store(server)
    try:
        with source.unit_of_work() as uow:
            uow.repo(OUTBOX).count()
            uow.emit(SpecimenRecorded("s1", datetime(2026, 1, 1, tzinfo=UTC)))
            uow.next_counter("series:SO-202611-#")
        expected = _export(source)
        backup = tmp_path / "backup.jsonl.gz"
        assert cli_main(["export", "--store", _FULL_URLS[source.url], "-o", str(backup)]) == 0
        assert "exported 1 documents of 1 kinds, 1 counters" in capsys.readouterr().out
        assert gzip.decompress(backup.read_bytes()) == expected
    finally:
        source.close()
    schema = f"t{_RUN}_cli"
    _SCHEMAS.append(schema)
    target_url = _with_query(server, schema=schema)
    assert cli_main(["import", str(backup), "--store", target_url]) == 0
    with open_store(target_url, plugin_manager=_plugin_manager()) as target:
        assert _export(target) == expected


def test_entry_point_registers_the_backend() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="csdomain")}
    assert names.get("postgres") == "csdomain_postgres"


# -- contention heals (issue #19 item 5) --------------------------------------------------------


class _ServerError(Exception):
    """Stands in for a psycopg error with a SQLSTATE."""

    def __init__(self, sqlstate: str, text: str) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "reason"),
    [("40001", "serialization failure"), ("40P01", "deadlock detected")],
)
def test_serialization_failures_and_deadlocks_are_conflicts_that_say_what_conflicted(
    sqlstate: str, reason: str
) -> None:
    """Rule: 40001 and 40P01 become ConcurrencyConflict naming what conflicted, never
    "stored version None" (issue #19 item 5)."""
    from csdomain_postgres.backend import _conflict, _is_conflict

    err = _ServerError(sqlstate, f"{reason}\nDETAIL: process 1 waits for ShareLock")
    assert _is_conflict(err)
    on_row = _conflict(err, "order", "SO-202611-0001", 3)
    assert isinstance(on_row, ConcurrencyConflict)
    assert (on_row.kind, on_row.key, on_row.expected) == ("order", "SO-202611-0001", 3)
    assert str(on_row).startswith("order 'SO-202611-0001' conflicted with a concurrent unit")
    assert reason in str(on_row)
    assert f"SQLSTATE {sqlstate}" in str(on_row)
    assert "None" not in str(on_row)
    set_up = _conflict(err, doing="setting up order")
    assert str(set_up).startswith("setting up order conflicted")
    assert "DETAIL" not in str(set_up)
    assert not _is_conflict(_ServerError("23505", "duplicate key"))


def test_a_serialization_failure_names_the_document_not_a_stored_version(server: str) -> None:
    """Rule: a conflict's message says what conflicted (issue #19 item 5)."""
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        first = store.unit_of_work().__enter__()
        repo = first.repo(SPECIMENS)
        current = repo.get("s000001")
        with store.unit_of_work() as second:
            other = second.repo(SPECIMENS)
            other.update(attrs.evolve(other.get("s000001"), label="second"))
        with pytest.raises(ConcurrencyConflict) as info:
            repo.update(attrs.evolve(current, label="first"))
        first.__exit__(ConcurrencyConflict, info.value, None)
        message = str(info.value)
        assert message.startswith(f"{SPECIMENS.name} 's000001' conflicted")
        assert "SQLSTATE 40001" in message
        assert "stored version None" not in message
    finally:
        store.close()


def test_a_deadlock_is_a_conflict_for_one_unit_of_work_and_the_other_commits(
    server: str,
) -> None:
    """Rule: a deadlock (40P01) is a ConcurrencyConflict, not BackendUnavailable (issue #19
    item 5); the server undoes one side and the other goes on."""
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add_many([specimen(1), specimen(2)])
        outcomes: dict[str, BaseException | None] = {}
        a = store.unit_of_work().__enter__()
        b = store.unit_of_work().__enter__()
        a_repo, b_repo = a.repo(SPECIMENS), b.repo(SPECIMENS)
        a1, a2 = a_repo.get("s000001"), a_repo.get("s000002")
        b1, b2 = b_repo.get("s000001"), b_repo.get("s000002")
        a_repo.update(attrs.evolve(a1, label="a"))
        b_repo.update(attrs.evolve(b2, label="b"))

        def cross(name: str, uow: Any, repo: Any, doc: Any) -> None:
            try:
                repo.update(attrs.evolve(doc, label=name))
                uow.__exit__(None, None, None)
                outcomes[name] = None
            except BaseException as err:  # reported to the main thread
                uow.__exit__(type(err), err, None)
                outcomes[name] = err

        thread = threading.Thread(target=cross, args=("a", a, a_repo, a2))
        thread.start()
        time.sleep(0.2)  # a now waits for b's lock on s000002
        cross("b", b, b_repo, b1)
        thread.join(30)
        failed = [err for err in outcomes.values() if err is not None]
        assert len(outcomes) == 2
        assert len(failed) == 1, outcomes
        assert isinstance(failed[0], ConcurrencyConflict), repr(failed[0])
        assert "deadlock detected" in str(failed[0])
        assert "SQLSTATE 40P01" in str(failed[0])
        winner = next(name for name, err in outcomes.items() if err is None)
        with store.unit_of_work(readonly=True) as uow:
            assert {s.label for s in uow.repo(SPECIMENS).find()} == {winner}
    finally:
        store.close()


def test_a_second_stores_first_unit_of_work_does_not_wait_for_a_running_writer(
    server: str,
) -> None:
    """Rule: schema set-up is safe under concurrent first use (issue #19 item 5): a kind
    already set up takes no table lock, so a new store does not queue behind an open
    writer (which, needing the set-up lock itself, deadlocked with it)."""
    schema = f"t{_RUN}_{next(_numbers)}"
    _SCHEMAS.append(schema)
    url = _with_query(server, schema=schema)
    writer = open_store(url, plugin_manager=_plugin_manager())
    newcomer = open_store(url, plugin_manager=_plugin_manager())
    try:
        with writer.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        done: list[BaseException | None] = []

        def first_use() -> None:
            try:
                with newcomer.unit_of_work() as uow:
                    uow.repo(SPECIMENS).add(specimen(2))
                done.append(None)
            except BaseException as err:  # reported to the main thread
                done.append(err)

        with writer.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(3))
            thread = threading.Thread(target=first_use)
            thread.start()
            thread.join(10)
            assert done == [None]
        with writer.unit_of_work(readonly=True) as uow:
            assert uow.repo(SPECIMENS).count() == 3
    finally:
        newcomer.close()
        writer.close()


# -- counters and re-runs under load (issue #19 item 5) ------------------------------------------


def test_a_counter_taken_after_a_newer_commit_is_the_next_number_not_a_conflict(
    server: str,
) -> None:
    """Rule: counters take a path that does not conflict: a unit of work whose snapshot
    predates another's committed number gets the next one instead of a serialization
    failure."""
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        with store.unit_of_work() as older:
            older.repo(SPECIMENS).get("s000001")  # the snapshot is taken here
            with store.unit_of_work() as newer:
                assert newer.next_counter("SO") == 1
            assert older.next_counter("SO") == 2
            assert older.next_counter("SO") == 3
        with store.unit_of_work(readonly=True) as uow:
            assert list(uow.tx.list_counters()) == [("SO", 3)]
    finally:
        store.close()


def test_a_number_held_by_a_unit_of_work_that_rolls_back_goes_to_the_next_one_without_a_gap(
    server: str,
) -> None:
    """Rule: 0 duplicate numbers and no gap: a number taken by a running unit of work is
    waited for; if that unit of work rolls back, the waiting one gets it."""
    store = fresh_store(server)
    try:
        taken: list[int] = []
        holder = store.unit_of_work().__enter__()
        assert holder.next_counter("SO") == 1

        def wait_for_it() -> None:
            with store.unit_of_work() as uow:
                taken.append(uow.next_counter("SO"))

        thread = threading.Thread(target=wait_for_it)
        thread.start()
        thread.join(0.3)
        assert taken == [], "the second waits for the first's number"
        holder.__exit__(RuntimeError, RuntimeError("rolled back"), None)
        thread.join(10)
        assert taken == [1]
        with store.unit_of_work() as uow:
            assert uow.next_counter("SO") == 2
    finally:
        store.close()


def test_a_rerun_after_a_conflict_on_a_row_locks_it_before_its_snapshot(server: str) -> None:
    """Rule: a unit of work re-run after a conflict on a row cannot be overtaken on that
    row again: it holds the row's lock from before its snapshot, and a writer that read the
    row meanwhile is the one that conflicts."""
    store = fresh_store(server)
    other = open_store(_FULL_URLS[store.url], plugin_manager=_plugin_manager())
    try:
        with store.unit_of_work() as uow:
            uow.repo(SPECIMENS).add(specimen(1))
        first = store.unit_of_work().__enter__()
        current = first.repo(SPECIMENS).get("s000001")
        with other.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            repo.update(attrs.evolve(repo.get("s000001"), label="other"))
        with pytest.raises(ConcurrencyConflict) as info:
            first.repo(SPECIMENS).update(attrs.evolve(current, label="first"))
        first.__exit__(ConcurrencyConflict, info.value, None)

        rerun = store.unit_of_work().__enter__()  # this thread's next writing unit of work
        again = rerun.repo(SPECIMENS).get("s000001")
        outcome: list[str] = []

        def overtake() -> None:
            try:
                with other.unit_of_work() as uow:
                    repo = uow.repo(SPECIMENS)
                    repo.update(attrs.evolve(repo.get("s000001"), label="overtaker"))
                outcome.append("committed")
            except ConcurrencyConflict:
                outcome.append("conflict")

        thread = threading.Thread(target=overtake)
        thread.start()
        thread.join(0.3)
        assert outcome == [], "the overtaker waits for the re-run's lock"
        rerun.repo(SPECIMENS).update(attrs.evolve(again, label="rerun"))
        rerun.__exit__(None, None, None)
        thread.join(10)
        assert outcome == ["conflict"]
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(SPECIMENS).get("s000001").label == "rerun"
    finally:
        other.close()
        store.close()


def test_a_store_with_one_row_per_counter_is_migrated_on_open_and_its_counters_go_on(
    server: str,
) -> None:
    """Rule: a database of schema 1 (one row per counter, updated in place) is migrated
    when a store opens it; every counter continues after its value."""
    store = fresh_store(server)
    url = _FULL_URLS[store.url]
    try:
        with store.unit_of_work() as uow:
            for _ in range(3):
                uow.next_counter("SO")
            uow.next_counter("WC")
        backend: Any = store.backend
        with backend._connect(autocommit=True) as conn:
            conn.execute("DELETE FROM csdomain_counters WHERE name = 'SO' AND value < 3")
            conn.execute(
                "ALTER TABLE csdomain_counters DROP CONSTRAINT csdomain_counters_pkey, "
                "ADD CONSTRAINT csdomain_counters_pkey PRIMARY KEY (name)"
            )
            conn.execute("DROP FUNCTION csdomain_next_counter(TEXT)")
            conn.execute("UPDATE csdomain_meta SET value = '1' WHERE name = 'schema_version'")
    finally:
        store.close()
    store = open_store(url, plugin_manager=_plugin_manager())
    try:
        with store.unit_of_work() as uow:
            assert (uow.next_counter("SO"), uow.next_counter("WC")) == (4, 2)
        with store.unit_of_work(readonly=True) as uow:
            assert list(uow.tx.list_counters()) == [("SO", 4), ("WC", 2)]
        backend = store.backend
        with backend._connect(autocommit=True) as conn:
            version = conn.execute(
                "SELECT value FROM csdomain_meta WHERE name = 'schema_version'"
            ).fetchone()
        assert version == ("2",)
    finally:
        store.close()


# -- erasure: purge_erased -----------------------------------------------------------------------


def _table_files(store: Store, kind: str) -> bytes:
    """The bytes of every file of ``kind``'s table now: heap, TOAST and indexes (after a
    checkpoint, so the files hold what the server has in memory)."""
    backend: Any = store.backend
    conn = backend._connect(autocommit=True)
    try:
        conn.execute("CHECKPOINT")
        rows = conn.execute(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = %(t)s::regclass"
            " OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = %(t)s::regclass)"
            " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = %(t)s::regclass"
            "   OR indrelid = (SELECT reltoastrelid FROM pg_class WHERE oid = %(t)s::regclass))",
            {"t": f"k_{kind}"},
        ).fetchall()
        paths = [path for (path,) in rows if path]
        return b"".join(
            conn.execute("SELECT pg_read_binary_file(%s)", (path,)).fetchone()[0] for path in paths
        )
    finally:
        conn.close()


def test_purge_erased_leaves_no_overwritten_or_deleted_value_in_the_table_files(
    server: str,
) -> None:
    """Rule: after an erasure, purge_erased leaves none of the overwritten or deleted values
    of the kind readable in its table files (issue #19 item 4)."""
    erased = ["Chen Wei", "13800138000", "陈伟 Luoyu Rd 1", "cw@huake.example"]
    kept = "Keda Instruments"
    store = fresh_store(server)
    try:
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            repo.add(specimen(1, label=erased[0], note=f"{erased[1]} {erased[2]}"))
            repo.add(specimen(2, label=erased[3], note=erased[1]))
            repo.add(specimen(3, label=kept))
        with store.unit_of_work() as uow:
            repo = uow.repo(SPECIMENS)
            repo.update(attrs.evolve(repo.get("s000001"), label="erased", note=""))
            repo.delete("s000002")
        before = _table_files(store, SPECIMENS.name)
        assert [v for v in erased if v.encode() in before], "the old versions are on disk"
        store.backend.purge_erased([SPECIMENS.name, "not_stored_here"])  # type: ignore[attr-defined]
        after = _table_files(store, SPECIMENS.name)
        assert kept.encode() in after
        assert [v for v in erased if v.encode() in after] == []
        with store.unit_of_work(readonly=True) as uow:
            assert [s.label for s in uow.repo(SPECIMENS).find()] == ["erased", kept]
    finally:
        store.close()


def test_purge_erased_refuses_what_is_not_a_kind_name(server: str) -> None:
    store = fresh_store(server)
    try:
        with pytest.raises(ValidationError):
            store.backend.purge_erased(["k; DROP TABLE csdomain_meta"])  # type: ignore[attr-defined]
    finally:
        store.close()
