r"""Moving a whole store between backends: streaming export and import as JSON Lines.

An export is one JSON object per line, written while reading one snapshot of the store:

- a header ``{"format": "csdomain-export", "version": 1}``;
- one line per stored document, ``{"kind": ..., "key": ..., "version": ..., "doc": {...}}``,
  ordered by kind name, then key (code-point order), the document with sorted keys;
- one line per store counter (naming series), ``{"counter": ..., "value": ...}``, by name;
- a trailer ``{"end": true, "documents": N, "counters": M, "sha256": "..."}``, so a cut-off
  file is refused; ``sha256`` is the SHA-256 digest (hex) of every line before it, header
  included, each without its line ending and followed by ``\n`` (for an export as written:
  the digest of all its bytes before the trailer).

The same store gives the same bytes on every backend, and export -> import -> export is
byte-identical. :func:`import_store` reads such lines into an **empty** store in one unit
of work, keeping every document's version and every counter's value, so a store can move
from SQLite to PostgreSQL with nothing lost; a bad line rolls the whole import back, and so
does content that does not match the trailer's digest (an edited or damaged file) unless the
caller deliberately imports an edited export with ``verify=False``.

Every backend takes part the same way, through the transfer methods of its transactions
(:class:`~csdomain.store.spi.Transaction`: ``list_counters``, ``restore_counter`` and
``restore``); a backend without them cannot be exported from or imported into
(:class:`~csdomain.errors.PluginError` names what is missing).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any

import attrs
import orjson

from csdomain.errors import PluginError, RuleViolation, ValidationError
from csdomain.serialization import converter, structure
from csdomain.store.schema import Kind
from csdomain.store.spi import TRANSFER_METHODS, Row, Transaction, short_repr
from csdomain.store.uow import Store, UnitOfWork


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TransferSummary",
    "TransferTransaction",
    "export_lines",
    "export_store",
    "import_store",
]

#: The ``format`` of the header line.
FORMAT = "csdomain-export"
#: The version of the line format this module writes and reads.
FORMAT_VERSION = 1

_DOC_FIELDS = frozenset({"kind", "key", "version", "doc"})
_COUNTER_FIELDS = frozenset({"counter", "value"})
_END_FIELDS = frozenset({"end", "documents", "counters", "sha256"})
_DIGEST_FIELD = "sha256"
_DIGEST_TEXT = re.compile(r"[0-9a-f]{64}")
_HEADER_FIELDS = frozenset({"format", "version"})
_SORT = orjson.OPT_SORT_KEYS


#: What export and import need of a backend's transaction: the transfer methods are part
#: of the backend SPI, so this is :class:`~csdomain.store.spi.Transaction` itself.
TransferTransaction = Transaction

#: Largest version and counter value an export may hold (what every backend can store).
_MAX_VERSION = 2**31 - 1
_MAX_COUNTER = 2**63 - 1
#: Longest key an error path shows whole.
_PATH_KEY = 80


@attrs.frozen
class TransferSummary:
    """What an export or import moved: documents per kind and the number of counters."""

    documents: dict[str, int]
    counters: int

    @property
    def total(self) -> int:
        """All documents, every kind together."""
        return sum(self.documents.values())

    def describe(self) -> str:
        """One line for people: ``1234 documents of 9 kinds, 17 counters``."""
        kinds = sum(1 for n in self.documents.values() if n)
        return f"{self.total} documents of {kinds} kinds, {self.counters} counters"


def _transfer_tx(store: Store, tx: Transaction) -> Transaction:
    """``tx``, once it is known to have every transfer method of the backend SPI."""
    missing = [name for name in TRANSFER_METHODS if not callable(getattr(tx, name, None))]
    if missing:
        msg = (
            f"the backend of {store.url} cannot export or import: its transactions lack "
            f"{', '.join(missing)} (see csdomain.store.spi.Transaction)"
        )
        raise PluginError(msg)
    return tx


# -- export --------------------------------------------------------------------------------


def _dumps(value: Any, what: str, option: int = _SORT) -> bytes:
    try:
        return orjson.dumps(value, option=option)
    except (orjson.JSONEncodeError, TypeError) as err:
        raise ValidationError.at(what, f"cannot be exported as JSON: {err}") from err


def _doc_data(store: Store, doc: Any, path: str) -> Any:
    if store.backend.stores_objects:
        return converter.unstructure(doc)
    try:
        return orjson.loads(doc)
    except (orjson.JSONDecodeError, TypeError) as err:
        raise ValidationError.at(path, f"the stored document is not JSON: {err}") from None


def _out_of_order(store: Store, what: str, previous: str, current: str) -> PluginError:
    msg = (
        f"the {store.url} backend returned {what} out of code-point order "
        f"({short_repr(previous)} before {short_repr(current)}); exports must be deterministic"
    )
    return PluginError(msg)


def _document_lines(
    store: Store, uow: UnitOfWork, kind: Kind[Any], counts: dict[str, int]
) -> Iterator[bytes]:
    name_json = orjson.dumps(kind.name)
    previous: str | None = None
    found = uow.tx.find(kind.name, (), (("key", False),), None, 0)
    for key, version, doc in found:
        if previous is not None and not previous < key:
            raise _out_of_order(store, f"{kind.name} keys", previous, key)
        previous = key
        path = f"{kind.name}.{key if len(key) <= _PATH_KEY else key[: _PATH_KEY - 3] + '...'}"
        data = _dumps(_doc_data(store, doc, path), path)
        counts[kind.name] += 1
        yield b"".join(
            (
                b'{"kind":',
                name_json,
                b',"key":',
                _dumps(key, path),
                b',"version":',
                str(int(version)).encode(),
                b',"doc":',
                data,
                b"}\n",
            )
        )


def export_lines(store: Store, *, summary: list[TransferSummary] | None = None) -> Iterator[bytes]:
    """The export of ``store`` as JSON lines (each ending in ``\\n``), streamed.

    Everything comes from one read-only unit of work (one snapshot); the unit of work stays
    open until the iterator is exhausted or closed. When ``summary`` is given, the
    :class:`TransferSummary` is appended to it at the end.
    """
    kinds = sorted(store.kinds, key=lambda k: k.name)
    counts = {kind.name: 0 for kind in kinds}
    digest = hashlib.sha256()
    with store.unit_of_work(readonly=True) as uow:
        header = _dumps({"format": FORMAT, "version": FORMAT_VERSION}, "header", 0) + b"\n"
        digest.update(header)
        yield header
        for kind in kinds:
            for line in _document_lines(store, uow, kind, counts):
                digest.update(line)
                yield line
        counters = 0
        previous: str | None = None
        for name, value in _transfer_tx(store, uow.tx).list_counters():
            if previous is not None and not previous < name:
                raise _out_of_order(store, "counters", previous, name)
            previous = name
            counters += 1
            line = (
                _dumps({"counter": name, "value": value}, f"counter {short_repr(name)}", 0) + b"\n"
            )
            digest.update(line)
            yield line
        total = sum(counts.values())
        trailer = {
            "end": True,
            "documents": total,
            "counters": counters,
            _DIGEST_FIELD: digest.hexdigest(),
        }
        yield _dumps(trailer, "trailer", 0) + b"\n"
    if summary is not None:
        summary.append(TransferSummary(documents=counts, counters=counters))


def export_store(store: Store, out: IO[bytes]) -> TransferSummary:
    """Write the export of ``store`` to the binary stream ``out``; returns what it held."""
    summary: list[TransferSummary] = []
    write = out.write
    for line in export_lines(store, summary=summary):
        write(line)
    return summary[0]


# -- import --------------------------------------------------------------------------------


def _line_error(number: int, err: ValidationError) -> ValidationError:
    return err.prefixed(f"line {number}")


def _parse(number: int, line: bytes | str) -> dict[str, Any] | None:
    if not isinstance(line, bytes | str):
        raise ValidationError.at(f"line {number}", f"expected text, got {type(line).__name__}")
    if not line.strip():
        return None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        raise ValidationError.at(f"line {number}", f"not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValidationError.at(f"line {number}", "expected a JSON object")
    return data


def _check_fields(
    number: int,
    data: dict[str, Any],
    wanted: frozenset[str],
    optional: frozenset[str] = frozenset(),
) -> None:
    extra = sorted(set(data) - wanted)
    missing = sorted(wanted - optional - set(data))
    errors = [(f"line {number}.{name}", "unknown field") for name in extra]
    errors += [(f"line {number}.{name}", "required field missing") for name in missing]
    if errors:
        raise ValidationError(errors)


def _count(
    number: int, data: dict[str, Any], field: str, minimum: int, maximum: int | None = None
) -> int:
    value = data[field]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError.at(f"line {number}.{field}", f"must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValidationError.at(f"line {number}.{field}", f"must be at most {maximum}")
    return value


def _name(number: int, data: dict[str, Any], field: str) -> str:
    value = data[field]
    if not isinstance(value, str) or not value:
        raise ValidationError.at(f"line {number}.{field}", "must be a non-empty string")
    return value


class _Importer:
    """Reads export lines into one unit of work, batching documents of one kind."""

    def __init__(self, store: Store, uow: UnitOfWork, batch_size: int, *, verify: bool) -> None:
        self.store = store
        self.uow = uow
        self.tx = _transfer_tx(store, uow.tx)
        self.batch_size = batch_size
        self.counts: dict[str, int] = {kind.name: 0 for kind in store.kinds}
        self.counters = 0
        self.kind: Kind[Any] | None = None
        self.rows: list[Row] = []
        self.versions: list[int] = []
        self.ended = False
        self.verify = verify
        self.digest = hashlib.sha256()

    def add_to_digest(self, line: bytes | str) -> None:
        """Count a content line (header, document or counter) into the digest; the line was
        parsed, so text is valid UTF-8."""
        raw = line.encode() if isinstance(line, str) else line
        self.digest.update(raw.rstrip(b"\r\n"))
        self.digest.update(b"\n")

    def require_empty(self) -> None:
        for kind in self.store.kinds:
            if self.uow.tx.count(kind.name, ()):
                msg = (
                    f"{self.store.url} already holds {kind.name} documents; "
                    "import needs an empty store"
                )
                raise RuleViolation("store_not_empty", msg, kind=kind.name)
        for name, _ in self.tx.list_counters():
            msg = (
                f"{self.store.url} already has counter {short_repr(name)}; "
                "import needs an empty store"
            )
            raise RuleViolation("store_not_empty", msg, counter=name)

    def flush(self) -> None:
        if self.kind is not None and self.rows:
            self.tx.restore(self.kind.name, self.rows, self.versions)
            self.counts[self.kind.name] += len(self.rows)
        self.rows = []
        self.versions = []

    def document(self, number: int, data: dict[str, Any]) -> None:
        _check_fields(number, data, _DOC_FIELDS)
        kind_name = _name(number, data, "kind")
        key = _name(number, data, "key")
        version = _count(number, data, "version", 1, _MAX_VERSION)
        if kind_name not in self.store.kinds:
            raise ValidationError.at(f"line {number}.kind", f"unknown kind {short_repr(kind_name)}")
        kind = self.store.kinds.get(kind_name)
        try:
            row = self.uow.repo(kind).row(structure(data["doc"], kind.cls))
        except ValidationError as err:
            raise _line_error(number, err.prefixed("doc")) from None
        if row.key != key:
            msg = f"the document's key is {short_repr(row.key)}, the line says {short_repr(key)}"
            raise ValidationError.at(f"line {number}.key", msg)
        if self.kind is not kind:
            self.flush()
            self.kind = kind
        self.rows.append(row)
        self.versions.append(version)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def counter(self, number: int, data: dict[str, Any]) -> None:
        _check_fields(number, data, _COUNTER_FIELDS)
        self.flush()
        name = _name(number, data, "counter")
        self.tx.restore_counter(name, _count(number, data, "value", 1, _MAX_COUNTER))
        self.counters += 1

    def end(self, number: int, data: dict[str, Any]) -> None:
        optional = frozenset() if self.verify else frozenset({_DIGEST_FIELD})
        try:
            _check_fields(number, data, _END_FIELDS, optional)
        except ValidationError as err:
            if _DIGEST_FIELD in data or len(err.errors) > 1:
                raise
            msg = (
                "required field missing: the end line carries no digest, so the content "
                "cannot be verified; nothing was imported (import it deliberately with "
                "verify=False, csdomain import --no-verify)"
            )
            raise ValidationError.at(f"line {number}.{_DIGEST_FIELD}", msg) from None
        self.flush()
        if data["end"] is not True:
            raise ValidationError.at(f"line {number}.end", "must be true")
        documents = _count(number, data, "documents", 0)
        counters = _count(number, data, "counters", 0)
        claimed = data.get(_DIGEST_FIELD)
        well_formed = isinstance(claimed, str) and _DIGEST_TEXT.fullmatch(claimed) is not None
        if (_DIGEST_FIELD in data or self.verify) and not well_formed:
            msg = "must be a SHA-256 digest: 64 lowercase hexadecimal digits"
            raise ValidationError.at(f"line {number}.{_DIGEST_FIELD}", msg)
        total = sum(self.counts.values())
        if (documents, counters) != (total, self.counters):
            msg = (
                f"the export says {documents} documents and {counters} counters, "
                f"but holds {total} and {self.counters}"
            )
            raise ValidationError.at(f"line {number}", msg)
        if self.verify and claimed != self.digest.hexdigest():
            msg = (
                "the content does not match the end line's digest (the export was edited "
                "or damaged); nothing was imported (import a deliberately edited export "
                "with verify=False, csdomain import --no-verify)"
            )
            raise ValidationError.at(f"line {number}.{_DIGEST_FIELD}", msg)
        self.ended = True


def _header(number: int, data: dict[str, Any] | None) -> None:
    if data is None or set(data) != _HEADER_FIELDS or data.get("format") != FORMAT:
        msg = f'expected the header {{"format": "{FORMAT}", "version": {FORMAT_VERSION}}}'
        raise ValidationError.at(f"line {number}", msg)
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        msg = f"must be an integer (the format version, {FORMAT_VERSION})"
        raise ValidationError.at(f"line {number}.version", msg)
    if version != FORMAT_VERSION:
        version = short_repr(data["version"])
        msg = f"format version {version} is not supported (only {FORMAT_VERSION})"
        raise ValidationError.at(f"line {number}.version", msg)


def _read(lines: Iterable[bytes | str]) -> Iterator[tuple[int, bytes | str]]:
    """``lines`` numbered from 1; a stream that cannot be read (a truncated or corrupt
    ``.gz`` file, text that is not UTF-8, a failing disk) is a :class:`ValidationError`."""
    number = 0
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except (EOFError, OSError, zlib.error, UnicodeDecodeError) as err:
            msg = f"the input cannot be read (truncated or corrupt file?): {err}"
            raise ValidationError.at(f"line {number + 1}", msg) from None
        number += 1
        yield number, line


def import_store(
    store: Store, lines: Iterable[bytes | str], *, batch_size: int = 500, verify: bool = True
) -> TransferSummary:
    """Read an export into ``store``, which must be empty; returns what was imported.

    Runs in one unit of work: a bad line, a missing trailer, content that does not match
    the trailer's digest, input that cannot be read (a truncated ``.gz``) or a store that
    already holds documents or counters (:class:`RuleViolation` ``store_not_empty``)
    writes nothing. ``verify=False`` imports a deliberately edited export: the digest is
    then not compared (nor required), every line is still validated. Documents keep their
    versions, counters their values.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError.at("batch_size", "must be a positive integer")
    if not isinstance(verify, bool):
        raise ValidationError.at("verify", "must be True or False")
    if isinstance(lines, str | bytes):
        raise ValidationError.at("lines", "pass an iterable of lines, e.g. an open file")
    # An empty store needs no data migration; what the import brings in (an old export's
    # counters) is migrated by the next writing unit of work.
    with store.unit_of_work(migrate=False) as uow:
        store.migrate_again()
        importer = _Importer(store, uow, batch_size, verify=verify)
        importer.require_empty()
        number = 0
        header_seen = False
        for number, line in _read(lines):
            data = _parse(number, line)
            if data is None:
                continue
            if not header_seen:
                _header(number, data)
                header_seen = True
                importer.add_to_digest(line)
            elif importer.ended:
                raise ValidationError.at(f"line {number}", "nothing may follow the end line")
            elif "kind" in data:
                importer.document(number, data)
                importer.add_to_digest(line)
            elif "counter" in data:
                importer.counter(number, data)
                importer.add_to_digest(line)
            elif "end" in data:
                importer.end(number, data)
            else:
                msg = "expected a document, counter or end line"
                raise ValidationError.at(f"line {number}", msg)
        if not header_seen:
            raise ValidationError.at("line 1", "the export is empty")
        if not importer.ended:
            msg = "the export has no end line (cut off?); nothing was imported"
            raise ValidationError.at(f"line {number + 1}", msg)
        return TransferSummary(documents=dict(importer.counts), counters=importer.counters)
