"""aiosqlite connections that call SQLite on the event loop's own thread, not a helper thread.

aiosqlite gives every connection a thread and hands it each call (cursor, execute, fetch,
close, commit) through a queue, waking the event loop through its self-pipe for the answer.
Through SQLAlchemy that is about ten hand-offs per statement, 670 per contribution, and they
cost more than the SQL: the contribution's activities spent 54.6 ms of CPU per contribution
with the thread and 24.8 ms without it (`bench/activities.py`).

Calling SQLite directly is safe here because it never waits long. The database is a local
file in WAL mode: readers never wait for the writer, and writers queue on the WriteGate
(asynchronously, before BEGIN IMMEDIATE) so SQLite's own lock is free when they reach it. What
remains is CPU, page-cache reads and each commit's fsync (about 0.35 ms here), which the
event loop can afford. A writer that bypasses the gate (an operator's `sqlite3` shell holding
a write transaction) would make a statement here wait up to busy_timeout with the loop held;
see docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its thread: runs each call as it is put, here."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting caller, as the thread does
            if future is not None:
                future.set_exception(error)
            else:
                raise
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread; its thread never starts.

    Everything aiosqlite (and SQLAlchemy's aiosqlite dialect) puts on the queue, including
    connecting and closing, runs at once, so awaiting the result never waits for the loop.
    """

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()


def connect_inline(*args: Any, **kwargs: Any) -> InlineConnection:
    """Like aiosqlite.connect with sqlite3.connect's arguments, but without the thread.

    check_same_thread is off: SQLAlchemy's pool may close a connection from the garbage
    collector's thread, and only one task uses a connection at a time.
    """
    kwargs["check_same_thread"] = False
    return InlineConnection(partial(sqlite3.connect, *args, **kwargs))
