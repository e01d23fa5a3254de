"""A throw-away PostgreSQL server for tests, started from Debian's binaries.

Use from any conftest:

    from tests.pg import postgres_url  # noqa: F401  (a fixture: a fresh database per test)

or build your own fixture on `shared_postgres()` / `start_postgres()`:

    server = shared_postgres_or_skip()   # one server per pytest process, stopped at exit
    url = server.create_database()       # postgresql+asyncpg://postgres@127.0.0.1:PORT/t_<hex>

When the binaries are missing the tests are skipped, except under CI (CI set), where that is
a failure: CI must run them.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_PG_USER = "postgres"
_START_TIMEOUT_S = 60


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and postgres, or PATH's."""
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(path).parent.name
        if re.fullmatch(r"\d+(\.\d+)?", version) and (Path(path) / "initdb").exists():
            candidates.append((float(version), Path(path)))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (install Debian's postgresql package)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root: initdb and postgres refuse to run as root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(_PG_USER)
    except KeyError as exc:
        raise PostgresUnavailable(f"running as root but there is no {_PG_USER!r} user") from exc
    return {
        "user": entry.pw_uid,
        "group": entry.pw_gid,
        "extra_groups": [],
        "env": {**os.environ, "HOME": entry.pw_dir, "USER": _PG_USER, "LOGNAME": _PG_USER},
    }


@dataclass
class PostgresServer:
    """A running server; databases are created on demand and vanish with the server."""

    bin_dir: Path
    base_dir: Path
    port: int
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run one SQL command with psql (synchronous, usable from sync and async fixtures)."""
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                dbname,
                "-At",
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url_or_name: str) -> None:
        name = url_or_name.rsplit("/", 1)[-1]
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate"],
            capture_output=True,
            timeout=60,
            check=False,
            **_run_as(),
        )
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_postgres() -> PostgresServer:
    """Initialise and start a new server in a temporary directory (fsync off: tests only)."""
    bin_dir = find_bin_dir()
    as_pg = _run_as()
    base_dir = Path(tempfile.mkdtemp(prefix="shebao-pg-"))
    try:
        if as_pg:
            os.chown(base_dir, as_pg["user"], as_pg["group"])
        data_dir = base_dir / "data"
        socket_dir = base_dir / "sock"
        init = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **as_pg,
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()[-2000:]}")
        last_error = ""
        # A port picked as free can be taken before postgres binds it: try a few.
        for _attempt in range(3):
            port = _free_port()
            server = PostgresServer(bin_dir=bin_dir, base_dir=base_dir, port=port)
            if as_pg:
                socket_dir.mkdir(exist_ok=True)
                os.chown(socket_dir, as_pg["user"], as_pg["group"])
            else:
                socket_dir.mkdir(exist_ok=True)
            options = " ".join(
                [
                    f"-p {port}",
                    f"-k {socket_dir}",
                    "-c listen_addresses=127.0.0.1",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=200",
                ]
            )
            started = subprocess.run(
                [
                    str(bin_dir / "pg_ctl"),
                    "start",
                    "-D",
                    str(data_dir),
                    "-l",
                    str(server.log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(_START_TIMEOUT_S),
                ],
                capture_output=True,
                text=True,
                timeout=_START_TIMEOUT_S + 10,
                check=False,
                **as_pg,
            )
            if started.returncode == 0:
                return server
            last_error = f"{started.stderr.strip()}\n{_log_tail(server.log_file)}"
        raise RuntimeError(f"postgres did not start: {last_error}")
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


_shared: PostgresServer | None = None
_shared_lock = threading.Lock()


def shared_postgres() -> PostgresServer:
    """One server for the whole test process, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = start_postgres()
            atexit.register(_shared.stop)
        return _shared


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared_postgres_or_skip() -> PostgresServer:
    """shared_postgres(), skipping the test when the binaries are missing (failing under CI)."""
    try:
        return shared_postgres()
    except PostgresUnavailable as exc:
        if _in_ci():
            pytest.fail(f"PostgreSQL is required under CI: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {exc}")


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    return shared_postgres_or_skip()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test (not migrated)."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
