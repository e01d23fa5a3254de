"""Imports point down the layers of docs/architecture.md; a module that reaches up fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Our own top-level modules and packages, and what each may import besides itself and libraries.
# `settings` is the one configuration class every process reads; only the pure domain and the
# workflows' deterministic code go without it.
LOWER: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "storage": frozenset({"domain", "settings"}),
    "adapters": frozenset({"domain", "settings"}),
    "simulators": frozenset({"domain", "adapters", "settings"}),
    "services": frozenset({"domain", "storage", "adapters", "workflows", "settings"}),
    "workflows": frozenset({"domain", "settings"}),
    "activities": frozenset({"domain", "storage", "adapters", "services", "workflows"}),
    "api": frozenset(
        {
            "domain",
            "storage",
            "adapters",
            "services",
            "workflows",
            "settings",
            "observability",
            "process_heap",
            # The API process's composition root (api/app.py) mounts the simulators' routes
            # when settings turn them on; no route or service imports them.
            "wiring",
            "simulators",
        }
    ),
}
OURS = set(LOWER) | {"wiring", "worker", "settings", "observability", "process_heap", "scripts"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("layer", sorted(LOWER))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    allowed = LOWER[layer] | {layer}
    reaching_up = {
        str(path.relative_to(ROOT)): sorted(_imports(path) - allowed)
        for path in sorted((ROOT / layer).rglob("*.py"))
        if "migrations" not in path.parts and _imports(path) - allowed
    }
    assert reaching_up == {}


def test_only_the_api_composition_root_names_the_simulators() -> None:
    """Routes, pages, middleware and dependencies reach simulators only through the wiring."""
    naming = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "api").rglob("*.py")
        if "simulators" in _imports(path)
    )
    assert naming == ["api/app.py"]


def test_adapters_hold_no_simulator() -> None:
    stand_ins = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "adapters").rglob("*.py")
        if "simulat" in p.name or p.name.startswith("sim_")
    )
    assert stand_ins == []
