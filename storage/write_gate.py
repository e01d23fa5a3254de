"""A fair, prompt queue for SQLite's single write lock, across tasks and processes."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.exc import OperationalError


def busy_error() -> OperationalError:
    """The error SQLite gives when busy_timeout runs out, so callers treat both the same."""
    orig = sqlite3.OperationalError("database is locked")
    orig.sqlite_errorcode = sqlite3.SQLITE_BUSY
    orig.sqlite_errorname = "SQLITE_BUSY"
    return OperationalError("BEGIN IMMEDIATE", None, orig)


class WriteGate:
    """Who may BEGIN IMMEDIATE next: one task per process, one process per database file.

    SQLite itself makes a writer that finds the lock taken sleep and retry, backing off from
    1 ms to 100 ms between tries. Under load the lock then sat free while waiters slept, and
    fresh arrivals overtook writers that had waited longest: in bench/api_latency.py the lock
    was held only 40 % of the time, yet writers waited 0.3 s on average and, at the 99th
    percentile, the whole 5 s busy timeout (503). Through the gate, a process's writers queue
    first come, first served on an asyncio lock, and the head of each process's queue waits on
    flock(2) on a file next to the database, which the kernel grants the moment it is freed.

    Waiting is bounded by `timeout_s`, after which `acquire` raises the same "database is
    locked" OperationalError that SQLite's busy timeout does.
    """

    def __init__(self, lock_path: Path | None, timeout_s: float) -> None:
        self._lock_path = lock_path  # None: an in-memory database, one process only
        self._timeout_s = timeout_s
        self._local = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the holder's, set on acquire
        self._fd: int | None = None
        self._fd_pid = 0
        # One thread per gate: only the head of this process's queue ever waits in it.
        self._waiter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-write-gate")

    async def acquire(self) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._local.acquire()
                await self._lock_file()
        except TimeoutError:
            raise busy_error() from None
        self._loop = asyncio.get_running_loop()

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        # An abandoned connection is cleaned up by the garbage collector, which may run in any
        # thread (a database driver's, say); the asyncio lock may only be touched in its loop.
        try:
            in_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            in_loop = False
        if in_loop or self._loop is None or self._loop.is_closed():
            self._local.release()
        else:
            self._loop.call_soon_threadsafe(self._local.release)

    def close(self) -> None:
        """Forget the lock file's descriptor (the engine was disposed)."""
        if self._fd is not None and self._fd_pid == os.getpid():
            os.close(self._fd)
        self._fd, self._fd_pid = None, 0

    def _file(self) -> int | None:
        # Opened per process: a descriptor inherited through fork would share its lock with
        # the parent, and flock(2) locks belong to the open file, not to the process.
        if self._lock_path is not None and self._fd_pid != os.getpid():
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    async def _lock_file(self) -> None:
        """flock the file, holding the local lock; on failure the local lock is given back."""
        try:
            fd = self._file()
            if fd is None:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
        except BaseException:
            self._local.release()
            raise
        granted = asyncio.get_running_loop().run_in_executor(
            self._waiter, fcntl.flock, fd, fcntl.LOCK_EX
        )
        try:
            await asyncio.shield(granted)
        except BaseException:
            # Cancelled or timed out while the thread waits: it still gets the lock in the end.
            # The next task of this process must not start before that lock is given back (it
            # would share it: flock(2) locks belong to the open file), so the local lock is
            # released only then.
            granted.add_done_callback(lambda done: self._give_back(fd, done))
            raise

    def _give_back(self, fd: int, granted: asyncio.Future[None]) -> None:
        if granted.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._local.release()
