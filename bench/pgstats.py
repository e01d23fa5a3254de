"""What PostgreSQL itself did during a benchmark: its CPU, statements and transactions.

    meter = PgMeter(server, {"app": app_url, "sim": sim_url})
    meter.start()
    ...                                   # the measured run
    report = meter.stop()                 # PgReport: CPU seconds, per-database counts

CPU is the postmaster's and every backend's (children of the postmaster): a backend that ends
meanwhile (a pool closing a connection) is counted through the postmaster's children's times.
Statements come from pg_stat_statements (every statement's calls, BEGIN and COMMIT included,
since track_utility is on by default), transactions from pg_stat_database (xact_commit,
xact_rollback). The meter's own queries go through psql and are left out of the statement
counts; they add a transaction or two to the database it queries.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.local_postgres import LocalPostgres

_CLK_TCK = os.sysconf("SC_CLK_TCK")
# The meter's own statements, left out of the counts.
_OWN = "%pg_stat_%"


def _times(pid: int, *, with_children: bool) -> float:
    """utime + stime (+ cutime + cstime) of a process, in seconds; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _CLK_TCK


def postgres_cpu_seconds(postmaster_pid: int) -> float:
    """CPU used so far by the postmaster, its live children and the children it reaped."""
    total = _times(postmaster_pid, with_children=True)
    try:
        children = Path(f"/proc/{postmaster_pid}/task/{postmaster_pid}/children").read_text()
    except OSError:
        children = ""
    return total + sum(_times(int(pid), with_children=True) for pid in children.split())


@dataclass
class DbCounts:
    statements: int = 0  # pg_stat_statements calls, every kind
    transactions: int = 0  # xact_commit + xact_rollback
    rollbacks: int = 0
    sessions: int = 0  # connections opened
    by_kind: dict[str, int] = field(default_factory=dict)  # first word: SELECT, BEGIN, ...
    top: list[tuple[int, str]] = field(default_factory=list)  # (calls, query), most first


@dataclass
class PgReport:
    cpu_s: float
    sql_exec_ms: float  # pg_stat_statements' total_exec_time over every statement counted
    dbs: dict[str, DbCounts]


class PgMeter:
    def __init__(self, server: LocalPostgres, urls: dict[str, str]) -> None:
        self.server = server
        self.names = {label: url.rsplit("/", 1)[-1] for label, url in urls.items()}
        self.postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        self.server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        self._cpu = 0.0
        self._xacts: dict[str, tuple[int, int, int]] = {}

    def _xact_counts(self) -> dict[str, tuple[int, int, int]]:
        rows = self.server.psql(
            "SELECT datname, xact_commit, xact_rollback, sessions FROM pg_stat_database"
            " WHERE datname IS NOT NULL"
        )
        counts: dict[str, tuple[int, int, int]] = {}
        for line in rows.splitlines():
            name, commits, rollbacks, sessions = line.split("|")
            counts[name] = (int(commits), int(rollbacks), int(sessions))
        return counts

    def start(self) -> None:
        self.server.psql("SELECT pg_stat_statements_reset()")
        self._xacts = self._xact_counts()
        self._cpu = postgres_cpu_seconds(self.postmaster)

    def stop(self, settle_s: float = 1.5) -> PgReport:
        cpu = postgres_cpu_seconds(self.postmaster) - self._cpu
        # Backends publish their transaction counts at most once a second once idle.
        time.sleep(settle_s)
        xacts = self._xact_counts()
        rows = self.server.psql(
            "SELECT d.datname, s.calls, s.total_exec_time,"
            " regexp_replace(s.query, '\\s+', ' ', 'g')"
            " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            f" WHERE s.query NOT LIKE '{_OWN}' ORDER BY s.calls DESC"
        )
        by_db = {name: label for label, name in self.names.items()}
        dbs = {label: DbCounts() for label in self.names}
        exec_ms = 0.0
        for line in rows.splitlines():
            datname, calls_s, ms, query = line.split("|", 3)
            label = by_db.get(datname)
            if label is None:
                continue
            calls = int(calls_s)
            exec_ms += float(ms)
            counts = dbs[label]
            counts.statements += calls
            kind = (query.split() or ["?"])[0].upper()
            counts.by_kind[kind] = counts.by_kind.get(kind, 0) + calls
            counts.top.append((calls, query))
        for label, name in self.names.items():
            after, before = xacts.get(name, (0, 0, 0)), self._xacts.get(name, (0, 0, 0))
            commits, rollbacks, sessions = (a - b for a, b in zip(after, before, strict=True))
            dbs[label].transactions = commits + rollbacks
            dbs[label].rollbacks = rollbacks
            dbs[label].sessions = sessions
        return PgReport(cpu_s=cpu, sql_exec_ms=exec_ms, dbs=dbs)


def print_report(report: PgReport, n: int, *, top: int = 0) -> None:
    """Per-contribution figures: PostgreSQL's CPU, then statements and transactions per DB."""
    print(
        f"PostgreSQL    : CPU {report.cpu_s * 1000 / n:.1f} ms per workflow (postmaster and"
        f" backends); statements' own execution {report.sql_exec_ms / n:.2f} ms"
    )
    for label, counts in report.dbs.items():
        kinds = ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(counts.by_kind.items()))
        print(
            f"  {label} database: {counts.statements / n:.1f} statements and"
            f" {counts.transactions / n:.1f} transactions per workflow"
            f" ({counts.rollbacks / n:.1f} rolled back); {counts.sessions} connections opened;"
            f" by kind: {kinds}"
        )
        for calls, query in counts.top[:top]:
            print(f"    {calls / n:5.2f}  {query[:150]}")
