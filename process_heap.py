"""The garbage collector's view of a long-running process: its start-up heap is frozen."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Move every object alive now (imported modules, the app, settings) out of the collector's
    sight, just before a process starts serving.

    A full (oldest-generation) collection walks every tracked object. In the API and the worker
    those are mostly the hundreds of thousands that importing FastAPI, SQLAlchemy, pydantic and
    the Temporal SDK creates and that live as long as the process; each full collection then
    stopped the event loop long enough for every request or transaction in flight to wait
    (measured in docs/benchmarks.md, "Frozen start-up heaps").
    Frozen objects are never collected: only call this once, from a process's entry point.
    """
    gc.collect()
    gc.freeze()
