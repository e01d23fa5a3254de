"""Long-running processes freeze their start-up heap, so full collections stay short."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from process_heap import freeze_startup_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process keeps collecting everything


def test_freezing_takes_the_startup_heap_out_of_collections(unfrozen: None) -> None:
    startup = [[n] for n in range(10_000)]  # long-lived containers, as imports make
    assert gc.get_freeze_count() == 0
    freeze_startup_heap()
    # A full collection now walks only what is made from here on.
    assert gc.get_freeze_count() >= len(startup)


def test_each_api_process_freezes_its_heap_once_its_app_is_built(
    unfrozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.__main__

    monkeypatch.setenv("SHEBAO_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(api.__main__, "setup_logging", lambda *_, **__: None)
    app = api.__main__.worker_app()
    assert app.title == "shebao"
    assert gc.get_freeze_count() > 0
