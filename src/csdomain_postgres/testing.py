"""A throwaway PostgreSQL cluster for tests: ``initdb`` and ``pg_ctl`` in a temporary directory.

::

    from csdomain_postgres.testing import LocalCluster

    with LocalCluster.start() as cluster:      # a private server on a free 127.0.0.1 port
        store = csdomain.open_store(cluster.url(schema="t1"))
        ...                                    # stopped and deleted on exit

It needs the server binaries (``initdb``, ``pg_ctl``, ``postgres``): on ``PATH``, in
``$CSDOMAIN_POSTGRES_BIN``, or where Debian's ``postgresql`` package puts them
(``/usr/lib/postgresql/<version>/bin``). PostgreSQL refuses to run as root, so under root
the server runs as the unprivileged user ``nobody`` (or ``$CSDOMAIN_POSTGRES_USER``).

For pytest, :func:`postgres_url` is a session fixture (``pytest_plugins =
["csdomain_postgres.testing"]`` in a root ``conftest.py``) and :func:`shared_url` the
function behind it: ``$CSDOMAIN_POSTGRES_URL`` when set, else one cluster per process,
stopped at exit. When no server can be had the tests are skipped with the reason, or fail
if ``$CSDOMAIN_REQUIRE_POSTGRES`` is set (CI, where a skip would hide a broken set-up).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote


__all__ = [
    "ClusterUnavailable",
    "LocalCluster",
    "find_server_binaries",
    "postgres_url",
    "shared_url",
    "url_or_skip",
]

#: The superuser and password of a throwaway cluster (it listens on 127.0.0.1 only).
SUPERUSER = "csdomain"
PASSWORD = "csdomain-test"  # noqa: S105 - a throwaway cluster's password, not a secret
_START_ATTEMPTS = 3
_SERVER_SETTINGS = (
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
    "-c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB"
)


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))


def find_server_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, or ``None``."""
    candidates: list[Path] = []
    configured = os.environ.get("CSDOMAIN_POSTGRES_BIN")
    if configured:
        candidates.append(Path(configured))
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates.extend(
        sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalCluster:
    """A private PostgreSQL server in a temporary directory (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        port: int,
        bin_dir: Path,
        run_as: pwd.struct_passwd | None,
        settings: Mapping[str, str] | None = None,
    ):
        self.root = root
        self.port = port
        self.bin_dir = bin_dir
        self._run_as = run_as
        self._settings = dict(settings or {})
        self._stopped = False

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.root / "data"

    def url(self, *, dbname: str = "postgres", schema: str | None = None) -> str:
        """A ``postgresql://`` URL for the superuser (``schema`` adds ``?schema=``)."""
        query = f"?schema={schema}" if schema else ""
        return (
            f"postgresql://{SUPERUSER}:{quote(PASSWORD, safe='')}@127.0.0.1:{self.port}/"
            f"{dbname}{query}"
        )

    @property
    def pid(self) -> int:
        """The process id of the running server (the postmaster)."""
        return int((self.data / "postmaster.pid").read_text(encoding="utf-8").split()[0])

    def kill(self, *, wait: float = 30.0) -> None:
        """``kill -9`` the postmaster, as a crash would, and wait until the server processes
        it leaves behind have noticed and exited (those still there after ``wait`` seconds
        are killed too), so that :meth:`restart` can start a new server on the same data."""
        pid = self.pid
        group = os.getpgid(pid)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait
        while _server_processes(pid, group):
            if time.monotonic() > deadline:
                for left in _server_processes(pid, group):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(left, signal.SIGKILL)
                break
            time.sleep(0.05)
        # A dead postmaster not yet reaped by its new parent still "exists", and a new
        # server would take its lock files for a running one's: they go (nothing runs).
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for lock in self.root.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def restart(self) -> None:
        """Start the server again on the same data and port (after :meth:`kill`: crash
        recovery replays the write-ahead log)."""
        last = self._pg_ctl_start()
        if last:
            msg = f"the PostgreSQL server did not restart: {last}"
            raise ClusterUnavailable(msg)

    @classmethod
    def start(
        cls, *, bin_dir: Path | None = None, settings: Mapping[str, str] | None = None
    ) -> LocalCluster:
        """Create and start a cluster; :class:`ClusterUnavailable` if that is impossible.

        ``settings`` are server parameters over the defaults, which trade durability for
        speed (``fsync``, ``synchronous_commit`` and ``full_page_writes`` off): a test that
        crashes the server and counts on every acknowledged commit passes
        ``{"synchronous_commit": "on"}`` (``fsync`` off only matters if the machine fails).
        """
        folder = bin_dir or find_server_binaries()
        if folder is None:
            msg = (
                "PostgreSQL server binaries (initdb, pg_ctl) not found: install the "
                "postgresql package, set CSDOMAIN_POSTGRES_BIN, or point "
                "CSDOMAIN_POSTGRES_URL at a server"
            )
            raise ClusterUnavailable(msg)
        run_as = _unprivileged_user()
        root = Path(tempfile.mkdtemp(prefix="csdomain-pg-"))
        cluster = cls(root, 0, folder, run_as, settings)
        try:
            cluster._create()
            last = ""
            for _ in range(_START_ATTEMPTS):
                cluster.port = _free_port()
                last = cluster._pg_ctl_start()
                if not last:
                    return cluster
                if "could not bind" not in last and "in use" not in last:
                    break
            msg = f"the PostgreSQL server did not start: {last}"
            raise ClusterUnavailable(msg)
        except BaseException:
            cluster._remove()
            raise

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        extra: dict[str, Any] = {}
        if self._run_as is not None:
            extra = {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}
        env = {**os.environ, "HOME": str(self.root), "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        return subprocess.run(  # noqa: S603 - fixed server binaries, no shell
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=check,
            env=env,
            cwd=self.root,
            timeout=120,
            **extra,
        )

    def _create(self) -> None:
        if self._run_as is not None:
            os.chown(self.root, self._run_as.pw_uid, self._run_as.pw_gid)
        self.root.chmod(0o700)
        password_file = self.root / "password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self._run_as is not None:
            os.chown(password_file, self._run_as.pw_uid, self._run_as.pw_gid)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                SUPERUSER,
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, "stderr", "") or str(err)
            msg = f"initdb failed: {detail.strip()[-500:]}"
            raise ClusterUnavailable(msg) from err
        finally:
            password_file.unlink(missing_ok=True)

    def _pg_ctl_start(self) -> str:
        """Start the server; ``""`` on success, else the end of its log."""
        log = self.root / "server.log"
        extra = "".join(f" -c {shlex.quote(f'{k}={v}')}" for k, v in self._settings.items())
        options = f"-p {self.port} -k {shlex.quote(str(self.root))} {_SERVER_SETTINGS}{extra}"
        try:
            result = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "-o", options,
                "start", check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as err:
            return str(err)
        if result.returncode == 0:
            return ""
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        return (text or result.stderr).strip()[-500:]

    def stop(self) -> None:
        """Stop the server and delete its files (safe to call twice)."""
        if self._stopped:
            return
        self._stopped = True
        for mode in ("fast", "immediate"):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                stopped = self._run(
                    "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop",
                    check=False,
                )  # fmt: skip
                if stopped.returncode == 0 or not (self.data / "postmaster.pid").exists():
                    break
        self._remove()

    def _remove(self) -> None:
        for _ in range(5):
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists():
                return
            time.sleep(0.2)

    def __enter__(self) -> LocalCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalCluster(port={self.port}, root={str(self.root)!r})"


def _server_processes(pid: int, group: int) -> list[int]:
    """The live (not zombie) processes of the server's process group: ``pg_ctl`` makes the
    postmaster a group leader, and its children stay in that group."""
    if group != pid or not Path("/proc").is_dir():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            return [pid]
        return []
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text(encoding="utf-8").rpartition(")")[2].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                found.append(int(stat.parent.name))
    return found


def _unprivileged_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    name = os.environ.get("CSDOMAIN_POSTGRES_USER", "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        msg = f"running as root and there is no user {name!r} to run PostgreSQL as"
        raise ClusterUnavailable(msg) from None


_SHARED: dict[str, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_url() -> str:
    """``$CSDOMAIN_POSTGRES_URL``, else the URL of this process's cluster (started on
    first use, stopped at exit); :class:`ClusterUnavailable` when neither is possible."""
    configured = os.environ.get("CSDOMAIN_POSTGRES_URL")
    if configured:
        return configured
    with _SHARED_LOCK:
        if "error" in _SHARED:
            raise ClusterUnavailable(_SHARED["error"])
        cluster = _SHARED.get("cluster")
        if cluster is None:
            try:
                cluster = LocalCluster.start()
            except ClusterUnavailable as err:
                _SHARED["error"] = str(err)
                raise
            _SHARED["cluster"] = cluster
            atexit.register(cluster.stop)
        return str(cluster.url())


def url_or_skip() -> str:
    """:func:`shared_url`, or skip the calling test with the reason (fail under
    ``$CSDOMAIN_REQUIRE_POSTGRES``); also skips when psycopg is not installed."""
    import pytest  # noqa: PLC0415 - only tests call this; benchmarks run without pytest

    required = bool(os.environ.get("CSDOMAIN_REQUIRE_POSTGRES"))
    try:
        import psycopg  # noqa: F401, PLC0415 - only to tell whether the extra is installed
        import psycopg_pool  # noqa: F401, PLC0415
    except ImportError as err:
        reason = f'PostgreSQL tests need {err.name}: pip install "csdomain[postgres]"'
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        return shared_url()
    except ClusterUnavailable as err:
        reason = f"no PostgreSQL server for the tests: {err}"
        if required:
            pytest.fail(reason)
        pytest.skip(reason)


try:
    import pytest
except ImportError:  # pragma: no cover - the fixture exists only where pytest does
    pass
else:

    @pytest.fixture(scope="session")
    def postgres_url() -> str:
        """A PostgreSQL URL for the test session (see :func:`url_or_skip`)."""
        return url_or_skip()
