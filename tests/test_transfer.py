"""Export and import of a whole store as JSON Lines: nothing lost between backends."""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import inspect
import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.audit import AccessRecord
from csdomain.cli.transfer import add_export_command, add_import_command
from csdomain.customers import Customer
from csdomain.demo import build_demo
from csdomain.errors import (
    BackendUnavailable,
    ConcurrencyConflict,
    CsDomainError,
    PluginError,
    RuleViolation,
    ValidationError,
)
from csdomain.kinds import ACCESS_LOG, CUSTOMERS, ORDERS, STOCKS
from csdomain.orders import Stock
from csdomain.store import (
    Filter,
    IndexValue,
    Kind,
    KindSchema,
    Row,
    Store,
    Transaction,
    open_store,
)
from csdomain.transfer import (
    FORMAT,
    FORMAT_VERSION,
    TransferTransaction,
    export_lines,
    export_store,
    import_store,
)


T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)


def export(store: Store) -> bytes:
    out = io.BytesIO()
    export_store(store, out)
    return out.getvalue()


def lines_of(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def end_counts(data: bytes) -> dict[str, Any]:
    """The end line of an export without its digest (which the digest tests check)."""
    end: dict[str, Any] = orjson.loads(data.splitlines()[-1])
    del end["sha256"]
    return end


@pytest.fixture(scope="module")
def demo_export() -> bytes:
    """The small demo data set, exported from the memory backend."""
    store = open_store("memory://")
    try:
        build_demo(store)
        return export(store)
    finally:
        store.close()


def customer(n: int, **fields: Any) -> Customer:
    return Customer(id=f"CU-{n:06d}", code=f"Wuhan-202611-Lab {n}-001", name=f"Lab {n}", **fields)


# -- round trips -----------------------------------------------------------------------------


def test_export_import_export_is_byte_identical_from_memory_to_sqlite_and_back(
    demo_export: bytes, tmp_path: Path
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'moved.db'}") as sqlite:
        import_store(sqlite, io.BytesIO(demo_export))
        from_sqlite = export(sqlite)
    with open_store("memory://") as memory:
        import_store(memory, io.BytesIO(from_sqlite))
        again = export(memory)
    assert from_sqlite == demo_export
    assert again == demo_export


def test_an_export_is_a_header_documents_by_kind_and_key_counters_and_a_trailer(
    demo_export: bytes,
) -> None:
    records = lines_of(demo_export)
    assert records[0] == {"format": FORMAT, "version": FORMAT_VERSION}
    documents = [r for r in records if "kind" in r]
    counters = [r for r in records if "counter" in r]
    assert records[1 : 1 + len(documents)] == documents
    assert records[1 + len(documents) : -1] == counters
    assert [(d["kind"], d["key"]) for d in documents] == sorted(
        (d["kind"], d["key"]) for d in documents
    )
    assert [c["counter"] for c in counters] == sorted(c["counter"] for c in counters)
    assert end_counts(demo_export) == {
        "end": True,
        "documents": len(documents),
        "counters": len(counters),
    }
    assert {d["kind"] for d in documents} >= {"customer", "order", "complaint", "outbox"}
    assert all(set(d) == {"kind", "key", "version", "doc"} for d in documents)


def test_versions_and_counters_survive_the_move(demo_export: bytes) -> None:
    records = lines_of(demo_export)
    orders = {r["key"]: r["version"] for r in records if r.get("kind") == "order"}
    series = {r["counter"]: r["value"] for r in records if "counter" in r}
    with open_store("sqlite://") as store:
        import_store(store, io.BytesIO(demo_export))
        key, version = max(orders.items(), key=lambda item: item[1])
        assert version > 1
        with store.unit_of_work() as uow:
            order, stored = uow.repo(ORDERS).get_with_version(key)
            assert stored == version
            assert uow.next_counter("series:SO-202609-#") == series["series:SO-202609-#"] + 1
        with pytest.raises(ConcurrencyConflict), store.unit_of_work() as uow:
            uow.repo(ORDERS).update(order, expected_version=version - 1)


def test_the_summary_counts_what_moved(demo_export: bytes) -> None:
    with open_store("memory://") as store:
        summary = import_store(store, io.BytesIO(demo_export))
        assert summary.documents[CUSTOMERS.name] == 60
        assert summary.total == lines_of(demo_export)[-1]["documents"]
        again = export_store(store, io.BytesIO())
    assert again == summary
    assert summary.describe().startswith(f"{summary.total} documents of ")


DOCUMENTS = st.lists(
    st.one_of(
        st.builds(customer, st.integers(1, 40)),
        st.builds(
            Stock, id=st.sampled_from(["AB-100", "AB-200", "TIP-1000"]), good=st.integers(0, 99)
        ),
        st.builds(
            AccessRecord,
            id=st.text(min_size=1, max_size=8).map("AR-".__add__),
            customer_id=st.sampled_from(["CU-1", "CU-2"]),
            actor_id=st.just("li"),
            at=st.just(T0),
            purpose=st.text(max_size=30),
        ),
    ),
    max_size=12,
)
KIND_OF: dict[type, Kind[Any]] = {Customer: CUSTOMERS, Stock: STOCKS, AccessRecord: ACCESS_LOG}


@given(
    documents=DOCUMENTS,
    bumps=st.lists(st.integers(0, 3), min_size=12, max_size=12),
    counters=st.dictionaries(st.text(min_size=1, max_size=12), st.integers(1, 5), max_size=4),
)
def test_any_store_content_round_trips_between_backends(
    documents: list[Any], bumps: list[int], counters: dict[str, int]
) -> None:
    with open_store("memory://") as source:
        with source.unit_of_work() as uow:
            for doc, bump in zip(documents, bumps, strict=False):
                repo = uow.repo(KIND_OF[type(doc)])
                if repo.exists(repo.kind.key(doc)):
                    continue
                repo.add(doc)
                for _ in range(bump):
                    repo.update(doc)
            for name, value in counters.items():
                for _ in range(value):
                    uow.next_counter(name)
        exported = export(source)
    with open_store("sqlite://") as target:
        import_store(target, io.BytesIO(exported))
        assert export(target) == exported


# -- refusals ----------------------------------------------------------------------------------


def test_import_refuses_a_store_that_holds_documents(demo_export: bytes) -> None:
    with open_store("sqlite://") as store:
        with store.unit_of_work() as uow:
            uow.repo(CUSTOMERS).add(customer(1))
        before = export(store)
        with pytest.raises(RuleViolation) as info:
            import_store(store, io.BytesIO(demo_export))
        assert info.value.code == "store_not_empty"
        assert export(store) == before


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_import_refuses_a_store_that_holds_only_counters(demo_export: bytes, url: str) -> None:
    with open_store(url) as store:
        with store.unit_of_work() as uow:
            uow.next_counter("series:SO-202609-#")
        with pytest.raises(RuleViolation) as info:
            import_store(store, io.BytesIO(demo_export))
        assert info.value.code == "store_not_empty"
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 1}


def small_export() -> list[bytes]:
    with open_store("memory://") as store:
        with store.unit_of_work() as uow:
            uow.repo(CUSTOMERS).add_many([customer(1), customer(2)])
            uow.next_counter("customer.id")
        return list(export_lines(store))


def replaced(lines: list[bytes], number: int, record: Any) -> list[bytes]:
    changed = list(lines)
    changed[number - 1] = orjson.dumps(record) + b"\n"
    return changed


def doc_line(lines: list[bytes], **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = orjson.loads(lines[1])
    record.update(changes)
    return record


BROKEN: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "no trailer": lambda lines: lines[:-1],
    "a document missing": lambda lines: lines[:1] + lines[2:],
    "nothing at all": lambda lines: [],
    "no header": lambda lines: lines[1:],
    "a newer format": lambda lines: replaced(lines, 1, {"format": FORMAT, "version": 2}),
    "bad JSON": lambda lines: [lines[0], b"{nope\n", *lines[2:]],
    "an unknown kind": lambda lines: replaced(lines, 2, doc_line(lines, kind="planet")),
    "a key that is not the document's": lambda lines: replaced(
        lines, 2, doc_line(lines, key="CU-999")
    ),
    "a document that does not fit": lambda lines: replaced(
        lines, 2, doc_line(lines, doc={"id": "CU-000001"})
    ),
    "version zero": lambda lines: replaced(lines, 2, doc_line(lines, version=0)),
    "an extra field": lambda lines: replaced(lines, 2, doc_line(lines, extra=1)),
    "a line after the end": lambda lines: [*lines, lines[1]],
    "a stray object": lambda lines: replaced(lines, 2, {"planet": "mars"}),
    "a number instead of a line": lambda lines: [lines[0], 7, *lines[1:]],  # type: ignore[list-item]
    "a bad counter": lambda lines: replaced(lines, 4, {"counter": "x", "value": -1}),
}


@pytest.mark.parametrize("damage", list(BROKEN), ids=list(BROKEN))
def test_a_damaged_export_imports_nothing(damage: str) -> None:
    lines = BROKEN[damage](small_export())
    with open_store("sqlite://") as store:
        with pytest.raises(ValidationError) as info:
            import_store(store, lines)
        assert info.value.errors[0][0].startswith("line ")
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


def test_import_takes_lines_not_one_string() -> None:
    with open_store("memory://") as store, pytest.raises(ValidationError):
        import_store(store, b"".join(small_export()))  # type: ignore[arg-type]


def test_text_lines_import_like_bytes() -> None:
    lines = small_export()
    with open_store("memory://") as store:
        import_store(store, [line.decode() for line in lines], batch_size=1)
        assert list(export_lines(store)) == lines


# -- exports verify themselves (issue #19 item 8) -----------------------------------------------


def edited_stock(data: bytes, more: int = 1000) -> bytes:
    """``data`` with the first stock's good quantity raised by ``more``: a schema-valid edit."""
    lines = data.splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith(b'{"kind":"stock"'))
    record = orjson.loads(lines[number])
    record["doc"]["good"] += more
    lines[number] = orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n"
    return b"".join(lines)


def test_the_end_line_carries_the_sha256_of_every_line_before_it(demo_export: bytes) -> None:
    """Rule: an export ends with a digest of its content, header included (issue #19, 8)."""
    content, _, end = demo_export.rstrip(b"\n").rpartition(b"\n")
    assert orjson.loads(end)["sha256"] == hashlib.sha256(content + b"\n").hexdigest()


def test_an_edited_export_is_refused_and_nothing_is_written(demo_export: bytes) -> None:
    """Rule: import checks the digest; a mismatch refuses the whole file (issue #19, 8)."""
    edited = edited_stock(demo_export)
    with open_store("sqlite://") as store:
        with pytest.raises(ValidationError) as info:
            import_store(store, io.BytesIO(edited))
        path, message = info.value.errors[0]
        assert path == f"line {len(edited.splitlines())}.sha256"
        assert "does not match" in message
        assert "verify=False" in message
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


def test_a_deliberately_edited_export_imports_with_verify_false(demo_export: bytes) -> None:
    """Rule: an explicit option imports a deliberately edited export (issue #19, 8)."""
    first = next(line for line in demo_export.splitlines() if line.startswith(b'{"kind":"stock"'))
    stock = orjson.loads(first)
    with open_store("memory://") as store:
        import_store(store, io.BytesIO(edited_stock(demo_export)), verify=False)
        with store.unit_of_work(readonly=True) as uow:
            assert uow.repo(STOCKS).get(stock["key"]).good == stock["doc"]["good"] + 1000
        again = export(store)
    assert again != demo_export
    content, _, end = again.rstrip(b"\n").rpartition(b"\n")
    assert orjson.loads(end)["sha256"] == hashlib.sha256(content + b"\n").hexdigest()


def test_an_end_line_without_a_digest_is_refused_unless_verify_is_false() -> None:
    """Rule: dropping the digest does not dodge the check (issue #19, 8)."""
    lines = small_export()
    end = orjson.loads(lines[-1])
    del end["sha256"]
    stripped = [*lines[:-1], orjson.dumps(end) + b"\n"]
    with open_store("sqlite://") as store:
        with pytest.raises(ValidationError) as info:
            import_store(store, stripped)
        assert info.value.errors[0][0] == f"line {len(lines)}.sha256"
        assert "--no-verify" in info.value.errors[0][1]
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}
        import_store(store, stripped, verify=False)
        assert list(export_lines(store)) == lines


@pytest.mark.parametrize("digest", [None, 7, "", "ABC", "0" * 63, "F" * 64, ["0" * 64]])
@pytest.mark.parametrize("verify", [True, False])
def test_a_digest_that_is_not_64_lowercase_hex_digits_is_refused(digest: Any, verify: bool) -> None:
    """Rule: the end line's fields are type-checked, with or without verification."""
    lines = small_export()
    end = orjson.loads(lines[-1]) | {"sha256": digest}
    with open_store("memory://") as store:
        with pytest.raises(ValidationError) as info:
            import_store(store, [*lines[:-1], orjson.dumps(end)], verify=verify)
        assert info.value.errors == [
            (
                f"line {len(lines)}.sha256",
                "must be a SHA-256 digest: 64 lowercase hexadecimal digits",
            )
        ]


def test_the_digest_does_not_depend_on_line_endings_or_blank_lines() -> None:
    """Rule: the digest covers the content of the lines, not how a copy ended them."""
    lines = small_export()
    crlf = [line.replace(b"\n", b"\r\n") for line in lines]
    with open_store("memory://") as store:
        import_store(store, [crlf[0], b"\r\n", *crlf[1:]])
        assert list(export_lines(store)) == lines


@pytest.mark.parametrize("version", [True, 1.0, "1", None, [1]])
def test_header_fields_are_type_checked(version: Any) -> None:
    """Rule: ``"version": true`` is not version 1 (issue #19, 8)."""
    lines = small_export()
    header = orjson.dumps({"format": FORMAT, "version": version}) + b"\n"
    with open_store("memory://") as store:
        with pytest.raises(ValidationError) as info:
            import_store(store, [header, *lines[1:]], verify=False)
        assert info.value.errors[0][0] == "line 1.version"
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


def test_verify_must_be_true_or_false() -> None:
    with open_store("memory://") as store, pytest.raises(ValidationError) as info:
        import_store(store, small_export(), verify="no")  # type: ignore[arg-type]
    assert info.value.errors == [("verify", "must be True or False")]


def gzipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as packed:
        packed.write(data)
    return out.getvalue()


CORRUPT_GZIP: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda packed: packed[: len(packed) // 2],
    "cut before its trailer": lambda packed: packed[:-8],
    "not gzip at all": lambda packed: b"plain text, not gzip\n",
    "a damaged middle": lambda packed: packed[:40] + bytes(64) + packed[104:],
}


@pytest.mark.parametrize("damage", list(CORRUPT_GZIP), ids=list(CORRUPT_GZIP))
def test_a_truncated_or_corrupt_gzip_export_is_a_validation_error(
    damage: str, demo_export: bytes, tmp_path: Path
) -> None:
    """Rule: compressed input errors are clean CsDomainErrors, nothing written (issue #19, 8)."""
    path = tmp_path / "backup.jsonl.gz"
    path.write_bytes(CORRUPT_GZIP[damage](gzipped(demo_export)))
    with open_store("sqlite://") as store:
        with pytest.raises(ValidationError) as info, gzip.open(path, "rb") as source:
            import_store(store, source)
        assert info.value.errors[0][0].startswith("line ")
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


def test_the_cli_refuses_a_corrupt_gzip_export_in_one_line(
    demo_export: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: errors are one clear line and a non-zero exit, not a traceback."""
    from csdomain.cli import main

    path = tmp_path / "backup.jsonl.gz"
    path.write_bytes(gzipped(demo_export)[:-100])
    url = f"sqlite:///{tmp_path / 'target.db'}"
    assert main(["import", str(path), "--store", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("csdomain: error: line ")
    assert "cannot be read" in err
    assert err.count("\n") == 1


def test_the_cli_refuses_an_edited_export_unless_no_verify_is_given(
    demo_export: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: ``csdomain import --no-verify`` is the explicit option for deliberate edits."""
    from csdomain.cli import main

    path = tmp_path / "edited.jsonl.gz"
    path.write_bytes(gzipped(edited_stock(demo_export)))
    url = f"sqlite:///{tmp_path / 'target.db'}"
    assert main(["import", str(path), "--store", url]) == 1
    assert "does not match" in capsys.readouterr().err
    with open_store(url) as store:
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}
    assert main(["import", str(path), "--no-verify", "--store", url]) == 0
    with open_store(url) as store:
        assert export(store).count(b'{"kind":"stock"') == demo_export.count(b'{"kind":"stock"')


# -- backends without the optional SPI ------------------------------------------------------------


class PlainTransaction:
    """A transaction that offers only the ordinary backend SPI."""

    def __init__(self, inner: Transaction) -> None:
        self.inner = inner

    def ensure_kind(
        self, schema: KindSchema, reindex: Callable[[Any], Mapping[str, IndexValue]]
    ) -> None:
        self.inner.ensure_kind(schema, reindex)

    def get(self, kind: str, key: str) -> tuple[int, Any] | None:
        return self.inner.get(kind, key)

    def insert(self, kind: str, rows: Sequence[Row]) -> None:
        self.inner.insert(kind, rows)

    def update(self, kind: str, row: Row, expected_version: int) -> int:
        return self.inner.update(kind, row, expected_version)

    def delete(self, kind: str, key: str, expected_version: int) -> None:
        self.inner.delete(kind, key, expected_version)

    def find(
        self,
        kind: str,
        filters: Sequence[Filter],
        order_by: Sequence[tuple[str, bool]],
        limit: int | None,
        offset: int,
    ) -> Iterator[tuple[str, int, Any]]:
        return self.inner.find(kind, filters, order_by, limit, offset)

    def count(self, kind: str, filters: Sequence[Filter]) -> int:
        return self.inner.count(kind, filters)

    def next_counter(self, name: str) -> int:
        return self.inner.next_counter(name)

    def commit(self) -> None:
        self.inner.commit()

    def rollback(self) -> None:
        self.inner.rollback()


class PlainBackend:
    """Wraps a backend so that its transactions offer only the ordinary SPI."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.stores_objects = inner.stores_objects
        self.url = "plain+" + inner.url

    def begin(self, *, readonly: bool = False) -> Transaction:
        return PlainTransaction(self.inner.begin(readonly=readonly))  # type: ignore[return-value]

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_a_backend_without_the_transfer_methods_is_refused_by_name_and_nothing_is_written(
    demo_export: bytes, url: str
) -> None:
    """Rule: export and import go through the transfer methods of the backend SPI, which
    every backend implements; one without them gets a PluginError naming what is missing."""
    inner = open_store(url)
    plain = Store(PlainBackend(inner.backend))
    assert not isinstance(plain.backend.begin(), TransferTransaction)
    try:
        with pytest.raises(PluginError, match="list_counters, restore_counter, restore"):
            import_store(plain, io.BytesIO(demo_export))
        with pytest.raises(PluginError, match="list_counters"):
            export(plain)
        assert lines_of(export(inner))[:-1] == [{"format": FORMAT, "version": FORMAT_VERSION}]
        assert end_counts(export(inner)) == {"end": True, "documents": 0, "counters": 0}
    finally:
        inner.close()


def test_the_transfer_module_never_names_a_bundled_backend() -> None:
    """Rule: export and import have no special cases for bundled backends (issue #14)."""
    import csdomain.store.transfer

    source = inspect.getsource(csdomain.store.transfer)
    bundled = r"csdomain_(memory|sqlite|postgres)|\.(_lock|_counters|_backend|conn)\b|SELECT|INSERT"
    assert re.findall(bundled, source) == []


class NativeTransaction(PlainTransaction):
    """A transaction that implements the optional SPI itself, recording the calls and
    keeping counters in a dict shared by all its transactions."""

    calls: list[str] = []  # noqa: RUF012 - shared on purpose, reset by the test
    counters: dict[str, int] = {}  # noqa: RUF012

    def list_counters(self) -> Iterator[tuple[str, int]]:
        self.calls.append("list_counters")
        return iter(sorted(self.counters.items()))

    def restore_counter(self, name: str, value: int) -> None:
        self.calls.append(f"restore_counter {name} {value}")
        self.counters[name] = value

    def restore(self, kind: str, rows: Sequence[Row], versions: Sequence[int]) -> None:
        self.calls.append(f"restore {kind} {len(rows)} {list(versions)}")
        self.inner.insert(kind, rows)


class NativeBackend(PlainBackend):
    def begin(self, *, readonly: bool = False) -> Transaction:
        return NativeTransaction(self.inner.begin(readonly=readonly))


def test_a_backend_that_implements_the_spi_is_used_directly() -> None:
    lines = small_export()
    NativeTransaction.calls = []
    NativeTransaction.counters = {}
    inner = open_store("memory://")
    store = Store(NativeBackend(inner.backend))
    try:
        import_store(store, lines)
        assert NativeTransaction.calls == [
            "list_counters",
            "restore customer 2 [1, 1]",
            "restore_counter customer.id 1",
        ]
        assert list(export_lines(store)) == lines
    finally:
        inner.close()


def test_a_driver_error_during_export_is_a_backend_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    with open_store(f"sqlite:///{path}") as store:
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE csdomain_counters")
        with pytest.raises(BackendUnavailable, match="csdomain_counters"):
            export(store)


def test_a_stored_document_that_is_not_json_is_a_validation_error_naming_it(
    tmp_path: Path,
) -> None:
    """Rule: only CsDomainError leaves store code, even for a damaged database file."""
    path = tmp_path / "damaged.db"
    with open_store(f"sqlite:///{path}") as store:
        import_store(store, small_export())
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE k_customer SET doc = X'7B' WHERE key = 'CU-000002'")
        with pytest.raises(ValidationError) as info:
            export(store)
    assert info.value.errors[0][0] == "customer.CU-000002"


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_text_that_json_cannot_hold_is_refused_at_add_so_every_store_can_be_exported(
    url: str,
) -> None:
    """Rule: the store keeps only what it can read back, so an export never meets a
    document it cannot write (issue #14)."""
    with open_store(url) as store:
        with pytest.raises(ValidationError) as info, store.unit_of_work() as uow:
            uow.repo(CUSTOMERS).add(customer(1, address="bad \ud800 text"))
        assert info.value.errors == [
            ("address", "text that is not valid Unicode (surrogates not allowed)")
        ]
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


# -- the command line ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="csdomain")
    sub = main.add_subparsers(dest="command")
    add_export_command(sub)
    add_import_command(sub)
    return main


def run(*argv: str) -> int:
    args = parser().parse_args(argv)
    result: int = args.handler(args)
    return result


@pytest.mark.parametrize("command", ["export", "import"])
def test_both_commands_have_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["backup.jsonl", "backup.jsonl.gz"])
def test_the_cli_moves_a_store_from_one_sqlite_file_to_another(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = small_export()
    source = f"sqlite:///{tmp_path / 'source.db'}"
    with open_store(source) as store:
        import_store(store, lines)
    file = tmp_path / name
    assert run("export", "--store", source, "-o", str(file)) == 0
    assert "exported 2 documents of 1 kinds, 1 counters" in capsys.readouterr().out
    raw = gzip.decompress(file.read_bytes()) if name.endswith(".gz") else file.read_bytes()
    assert raw == b"".join(lines)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert run("import", str(file), "--store", target) == 0
    assert "imported 2 documents" in capsys.readouterr().out
    with open_store(target) as store:
        assert list(export_lines(store)) == lines
    with pytest.raises(RuleViolation):
        run("import", str(file), "--store", target)


def test_the_cli_exports_to_standard_output(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    with open_store(url) as store:
        import_store(store, small_export())
    assert run("export", "--store", url) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == b"".join(small_export())
    assert b"exported 2 documents" in captured.err


def test_a_failed_export_leaves_no_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        import_store(store, small_export())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE k_customer SET doc = X'7B' WHERE key = 'CU-000002'")
    out = tmp_path / "out"
    out.mkdir()
    file = out / "out.jsonl"
    with pytest.raises(CsDomainError):
        run("export", "--store", url, "-o", str(file))
    assert list(out.iterdir()) == []


def test_exporting_a_missing_sqlite_file_is_one_error_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: errors are one clear line and a non-zero exit; a typo never creates a store."""
    from csdomain.cli import main

    missing = tmp_path / "typo.db"
    assert main(["export", "--store", f"sqlite:///{missing}"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert not missing.exists()


def test_importing_a_missing_file_names_it_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule: a missing input file is a usage error (exit 2) naming it, and writes nothing."""
    from csdomain.cli import EXIT_USAGE, main

    url = f"sqlite:///{tmp_path / 'target.db'}"
    assert main(["import", str(tmp_path / "nope.jsonl"), "--store", url]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: csdomain import")
    assert err.endswith(
        f"csdomain import: error: FILE: file {tmp_path / 'nope.jsonl'} does not exist\n"
    )
    with open_store(url) as store:
        assert len(list(export_lines(store))) == 2
        assert end_counts(export(store)) == {"end": True, "documents": 0, "counters": 0}


def test_the_cli_round_trips_every_kind_in_a_fresh_interpreter(
    demo_export: bytes, tmp_path: Path
) -> None:
    """Rule: a command-line backup holds every document, not only what the CLI imported."""
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    with open_store(f"sqlite:///{source}") as store:
        import_store(store, io.BytesIO(demo_export))
    backup = tmp_path / "backup.jsonl"
    cli = [sys.executable, "-m", "csdomain.cli"]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    run_cli = functools.partial(subprocess.run, check=True, capture_output=True, env=env)
    run_cli([*cli, "export", "--store", f"sqlite:///{source}", "-o", str(backup)])
    assert backup.read_bytes() == demo_export
    run_cli([*cli, "import", str(backup), "--store", f"sqlite:///{target}"])
    with open_store(f"sqlite:///{target}") as store:
        assert export(store) == demo_export
