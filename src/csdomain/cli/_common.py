"""What every ``csdomain`` command shares: the store option, progress bars, tables, the actor."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO
from urllib.parse import urlsplit

from csdomain.auth import Actor
from csdomain.errors import BackendUnavailable, ValidationError


__all__ = [
    "DEFAULT_STORE",
    "Handler",
    "Progress",
    "Subcommands",
    "add_operator_option",
    "add_store_option",
    "cli_actor",
    "file_error",
    "in_memory_store",
    "input_file",
    "is_quiet",
    "new_sqlite_file",
    "output_file",
    "positive_count",
    "print_table",
    "refuse_in_memory_store",
    "require_existing_store",
    "sqlite_path",
    "store_url",
]

#: The embedded default store: a SQLite file in the working directory.
DEFAULT_STORE = "sqlite:///csdomain.db"

#: What a command runs: the parsed arguments in, the exit status out.
Handler = Callable[[argparse.Namespace], int]

#: The ``add_subparsers()`` object each command module adds its parser to.
Subcommands = Any


class Progress:
    """A dependency-free progress bar on stderr, shown only for work longer than a second.

    ``Progress.quiet`` (set by ``-q``) hides every bar.
    """

    #: No bar at all (``csdomain -q``): stderr carries errors only.
    quiet: ClassVar[bool] = False

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more units of work as done."""
        self.done = min(self.total, self.done + amount)
        now = time.monotonic()
        if now - self.started < 1.0 or now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self._draw()

    def _draw(self) -> None:
        if self.quiet:
            return
        if not self.stream.isatty() and self._drawn and self.done < self.total:
            return
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        percent = 100 * self.done / self.total
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(f"{self.label:<22} [{bar}] {percent:5.1f}%{end}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Finish the bar (only drawn if it was ever shown)."""
        self.done = self.total
        if self._drawn:
            self._draw()
            if self.stream.isatty():
                self.stream.write("\n")


def _sqlite_target(url: str) -> str | None:
    """What a ``sqlite:///`` URL names after its slashes (``""`` or ``:memory:`` for an
    in-memory database); ``None`` for other schemes."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc:
        return None
    return parts.path[1:] if parts.path.startswith("/") else parts.path


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///FILE`` URL; ``None`` for other schemes and in-memory SQLite."""
    target = _sqlite_target(url)
    return None if target in (None, "", ":memory:") else Path(target)


def in_memory_store(url: str) -> bool:
    """Whether ``url`` names a store that lives only in the process: ``memory://``,
    in-memory SQLite (``sqlite:///``, ``sqlite:///:memory:``)."""
    return urlsplit(url).scheme == "memory" or _sqlite_target(url) in ("", ":memory:")


def refuse_in_memory_store(url: str) -> None:
    """Refuse an in-memory ``--store`` where a command reads one: it would be empty when
    the command starts and gone when it ends. A usage error (exit 2 with usage)."""
    if in_memory_store(url):
        msg = (
            f"{url} is an in-memory store, empty when the command starts and gone when it "
            "ends: give a file, e.g. sqlite:///csdomain.db"
        )
        raise ValidationError.at("--store", msg)


def _refuse_a_folder(url: str, path: Path | None) -> None:
    """A ``sqlite:///`` URL naming a folder, or a file in a folder that is not there, is a
    usage error (not SQLite's "unable to open database file")."""
    if path is None:
        return
    if path.is_dir():
        example = f"sqlite:///{path / 'csdomain.db'}"
        msg = f"{path} is a folder, not a store file: give a file, e.g. {example}"
        raise ValidationError.at("--store", msg)
    if not path.parent.is_dir():
        msg = f"{url}: the folder {path.parent} does not exist"
        raise ValidationError.at("--store", msg)


def require_existing_store(url: str, *, create_option: str | None = None) -> None:
    """Refuse a store a reading command would find empty: a SQLite file that does not
    exist (opening it would create an empty store) or an in-memory store (``sqlite:///``,
    ``memory://``; see :func:`refuse_in_memory_store`).

    ``create_option`` names the option that asks for a new store (said in the error).
    """
    refuse_in_memory_store(url)
    path = sqlite_path(url)
    _refuse_a_folder(url, path)
    if path is not None and not path.exists():
        msg = f"no store at {url}: {path} does not exist (csdomain demo --store {url} builds one"
        msg += f", {create_option} starts an empty one)" if create_option else ")"
        raise BackendUnavailable(msg)


class _FromEnvironment(str):
    """The ``--store`` default read from ``$CSDOMAIN_STORE``: errors say where it came from."""

    __slots__ = ()


def store_url(value: str) -> str:
    """An ``argparse`` type for ``--store``: a URL, with a suggestion for a bare file name."""
    text = value.strip()
    scheme, sep, _rest = text.partition(":")
    if not sep or not scheme or len(scheme) == 1 or "/" in scheme or "." in scheme:
        # no scheme (``csdomain.db``), or a Windows drive letter (``C:\\cs.db``)
        hint = f"sqlite:///{text}" if text else "sqlite:///csdomain.db"
        where = " (from $CSDOMAIN_STORE)" if isinstance(value, _FromEnvironment) else ""
        msg = f"not a store URL: {str(value)!r}{where} (did you mean {hint}?)"
        raise argparse.ArgumentTypeError(msg)
    return text


#: The largest count the store takes (a signed 64-bit integer).
_MAX_COUNT = 2**63 - 1


def positive_count(value: str) -> int:
    """An ``argparse`` type for counts (``--limit N``): a whole number from 1 up, so a bad
    value is a usage error with the usage line, like argparse's own."""
    try:
        number = int(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= number <= _MAX_COUNT:
        msg = f"must be a whole number from 1 to 2**63-1, got {value.strip()}"
        raise argparse.ArgumentTypeError(msg)
    return number


def output_file(name: str, option: str) -> Path | None:
    """The file an option names for writing, checked before any work starts: a folder,
    or a file in a folder that does not exist, is a usage error naming ``option``.
    ``-`` (standard output) is ``None``."""
    if name == "-":
        return None
    path = Path(name)
    if path.is_dir():
        raise ValidationError.at(option, f"{name} is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValidationError.at(
            option, f"cannot write {name}: the folder {path.parent} does not exist"
        )
    return path


def input_file(name: str, option: str) -> Path | None:
    """The file an option or argument names for reading, checked before any work starts:
    a missing file or a folder is a usage error naming ``option``. ``-`` (standard input)
    is ``None``."""
    if name == "-":
        return None
    path = Path(name)
    if path.is_dir():
        raise ValidationError.at(option, f"{name} is a folder; give the file to read")
    if not path.exists():
        raise ValidationError.at(option, f"file {name} does not exist")
    return path


def file_error(err: OSError, path: str, doing: str) -> ValidationError:
    """A one-line error for a file the command cannot read or write, naming the user's path."""
    reason = err.strerror or type(err).__name__
    folder = Path(path).parent
    if isinstance(err, FileNotFoundError) and not folder.exists():
        reason = f"the folder {folder} does not exist"
    return ValidationError.at(path, f"cannot {doing} {path}: {reason}")


@contextlib.contextmanager
def new_sqlite_file(url: str) -> Iterator[str]:
    """Build a new SQLite store at ``url`` in a temporary file, renamed into place at the end.

    Yields the URL to build into. Interrupted or failed, nothing is left behind: no
    half-built store for a later command to read without warning. An existing file and
    other URLs are yielded as they are (the command refuses a store that holds data).
    """
    path = sqlite_path(url)
    _refuse_a_folder(url, path)
    if path is None or path.exists():
        # an existing file is built in place: the command refuses one that holds data
        yield url
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    leftovers = [partial.with_name(partial.name + suffix) for suffix in ("", "-wal", "-shm")]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{partial}"
        if path.exists():
            msg = f"{path} appeared while the store was being built; nothing was replaced"
            raise BackendUnavailable(msg)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        os.replace(partial, path)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """``--store URL``, defaulting to ``$CSDOMAIN_STORE`` or :data:`DEFAULT_STORE`."""
    named = os.environ.get("CSDOMAIN_STORE")
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE if named is None else _FromEnvironment(named),
        type=store_url,
        metavar="URL",
        help=f"store URL (default: $CSDOMAIN_STORE or {DEFAULT_STORE})",
    )


def is_quiet(args: argparse.Namespace) -> bool:
    """Whether ``-q`` was given (a parser of a command alone, as an app may build, has no
    ``-q``: not quiet)."""
    return bool(getattr(args, "quiet", False))


def cli_actor(operator: str | None = None) -> Actor:
    """The actor the command line acts as, with the system role.

    ``operator`` (``--by``) names the person, recorded as given; without it
    ``$CSDOMAIN_OPERATOR``, else ``cli:<login name>``.
    """
    if operator is not None and operator.strip():
        return Actor.system(operator.strip())
    named = os.environ.get("CSDOMAIN_OPERATOR", "").strip()
    if named:
        return Actor.system(named)
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "operator"
    return Actor.system(f"cli:{user}")


def add_operator_option(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """``--by NAME``: who is acting, kept in the history of what the command changes."""
    parser.add_argument(
        "--by",
        metavar="NAME",
        default=argparse.SUPPRESS if suppress else None,
        help="who is acting, kept in the message history (default: $CSDOMAIN_OPERATOR "
        "or cli:$USER)",
    )


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
