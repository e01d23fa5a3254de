"""The worker writes its workflow modules' bytecode cache, which the sandbox re-imports per run."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path

from worker import WORKFLOWS, cache_workflow_bytecode


def test_the_worker_caches_workflow_bytecode_even_when_python_would_not() -> None:
    caches: list[tuple[Path, Path]] = []
    for workflow_class in WORKFLOWS:
        path = inspect.getsourcefile(workflow_class)
        assert path is not None
        cache = Path(importlib.util.cache_from_source(path))
        cache.unlink(missing_ok=True)
        caches.append((Path(path), cache))

    cache_workflow_bytecode()

    for source_file, cache_file in caches:
        assert cache_file.exists()
        assert cache_file.stat().st_mtime >= source_file.stat().st_mtime - 1
