"""`make dev` runs `python scripts/devstack.py`, which puts scripts/ first on sys.path: a module
there named like a standard-library one (calendar, time, ...) would replace it for every import."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_no_script_shadows_a_standard_library_module() -> None:
    names = {p.stem for p in SCRIPTS.glob("*.py")} | {
        p.name for p in SCRIPTS.iterdir() if (p / "__init__.py").exists()
    }
    assert sorted(names & set(sys.stdlib_module_names)) == []
