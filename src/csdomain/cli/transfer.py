"""The ``csdomain export`` and ``csdomain import`` commands (JSON Lines backups)."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from csdomain.cli._common import (
    Progress,
    Subcommands,
    add_store_option,
    file_error,
    in_memory_store,
    input_file,
    is_quiet,
    new_sqlite_file,
    output_file,
    require_existing_store,
)


if TYPE_CHECKING:
    from csdomain.store.transfer import TransferSummary


__all__ = ["add_export_command", "add_import_command"]


def _open(path: Path, mode: str) -> IO[bytes]:
    """A binary file; gzip-compressed when its name ends in ``.gz`` (the target's name)."""
    if path.name.removesuffix(".partial").endswith(".gz"):
        return gzip.open(path, mode)  # type: ignore[return-value]
    return path.open(mode)


@contextlib.contextmanager
def _output(path: str) -> Iterator[IO[bytes]]:
    """``-`` is standard output; a file is written next to its place and renamed at the
    end, so a failed export never leaves a half-written file behind."""
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        try:
            out = _open(partial, "wb")
        except OSError as err:
            raise file_error(err, path, "write") from None
        with out:
            yield out
        try:
            os.replace(partial, target)
        except OSError as err:
            raise file_error(err, path, "write") from None
    finally:
        partial.unlink(missing_ok=True)


@contextlib.contextmanager
def _input(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
        return
    source_path = Path(path)
    try:
        source = _open(source_path, "rb")
    except OSError as err:
        raise file_error(err, path, "read") from None
    with source:
        yield source


def _cmd_export(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    import csdomain.kinds  # noqa: F401, PLC0415 - registers every domain kind to export
    from csdomain.store import open_store  # noqa: PLC0415
    from csdomain.store.transfer import export_lines  # noqa: PLC0415

    output_file(args.output, "--output")
    require_existing_store(args.store)
    store = open_store(args.store)
    try:
        with store.unit_of_work(readonly=True) as uow:
            total = sum(uow.tx.count(kind.name, ()) for kind in store.kinds)
        progress = Progress("exporting", total)
        summary: list[TransferSummary] = []
        with _output(args.output) as out:
            for line in export_lines(store, summary=summary):
                out.write(line)
                if line.startswith(b'{"kind"'):
                    progress.advance()
        progress.close()
    finally:
        store.close()
    where = "standard output" if args.output == "-" else args.output
    report = sys.stderr if args.output == "-" else sys.stdout
    if report is sys.stderr and is_quiet(args):
        return 0
    print(f"exported {summary[0].describe()} from {store.url} to {where}", file=report)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    # Loaded when the command runs, as in every command: `csdomain --help` stays fast.
    import csdomain.kinds  # noqa: F401, PLC0415 - registers every domain kind to import
    from csdomain.store import open_store  # noqa: PLC0415
    from csdomain.store.transfer import import_store  # noqa: PLC0415

    input_file(args.input, "FILE")
    # a new SQLite file is built aside and renamed at the end: a refused import leaves
    # no empty database behind
    with new_sqlite_file(args.store) as url:
        store = open_store(url)
        try:
            with _input(args.input) as source:
                summary = import_store(store, source, verify=not args.no_verify)
        finally:
            store.close()
    if in_memory_store(args.store):
        # a check of the export: it imports, but nothing outlives the command
        where = "standard input" if args.input == "-" else args.input
        print(f"checked {where}: {summary.describe()} imported into {args.store}")
        print(f"{args.store} is an in-memory store: nothing was kept")
        return 0
    print(f"imported {summary.describe()} into {args.store}")
    return 0


def add_export_command(subparsers: Subcommands) -> None:
    """Add ``csdomain export`` to the CLI's subparsers."""
    export = subparsers.add_parser(
        "export",
        help="write the whole store as JSON Lines (documents, versions, counters)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Write every document of the store with its version, and every counter, as\n"
            "JSON Lines in a deterministic order, from one consistent snapshot. The same\n"
            "store gives the same bytes on every backend. A FILE ending in .gz is gzipped."
        ),
        epilog=(
            "examples:\n"
            "  csdomain export -o backup.jsonl\n"
            "  csdomain export --store sqlite:///cs.db -o cs.jsonl.gz\n"
            "  csdomain export --store sqlite:///cs.db | \\\n"
            "      csdomain import --store postgresql://cs@db/cs -\n"
        ),
    )
    add_store_option(export)
    export.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="where to write (default -: standard output)",
    )
    export.set_defaults(handler=_cmd_export)


def add_import_command(subparsers: Subcommands) -> None:
    """Add ``csdomain import`` to the CLI's subparsers."""
    imp = subparsers.add_parser(
        "import",
        help="read a csdomain export into an empty store",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Read a file written by 'csdomain export' into an EMPTY store, keeping every\n"
            "document's version and every counter. All or nothing: a bad line, a cut-off\n"
            "or corrupt file, content that does not match the digest on its end line (an\n"
            "edited file) or a store that already holds data imports nothing."
        ),
        epilog=(
            "examples:\n"
            "  csdomain import backup.jsonl --store sqlite:///restored.db\n"
            "  csdomain import cs.jsonl.gz --store postgresql://cs@db/cs\n"
            "  csdomain export --store sqlite:///old.db | \\\n"
            "      csdomain import - --store sqlite:///new.db\n"
            "  csdomain import edited.jsonl --no-verify --store sqlite:///fixed.db\n"
        ),
    )
    add_store_option(imp)
    imp.add_argument("input", metavar="FILE", help="the export to read (- for standard input)")
    imp.add_argument(
        "--no-verify",
        action="store_true",
        help="import a deliberately edited export: do not compare its digest "
        "(every line is still validated)",
    )
    imp.set_defaults(handler=_cmd_import)
