"""The trial patches behind docs/benchmarks.md still apply, so their figures can be re-measured."""

from __future__ import annotations

import shutil
import subprocess

from settings import REPO_ROOT

TRIALS = REPO_ROOT / "bench" / "trials"


def test_every_trial_patch_in_the_benchmark_docs_still_applies_to_the_current_code() -> None:
    patches = sorted(TRIALS.glob("*.patch"))
    assert [p.name for p in patches] == ["all-steps-local.patch", "stripped.patch"]
    git = shutil.which("git")
    assert git is not None, "git is needed to check the trial patches (CI installs it)"
    for patch in patches:
        check = subprocess.run(
            [git, "apply", "--check", str(patch)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, f"{patch.name} no longer applies: {check.stderr}"


def test_the_benchmark_docs_name_every_trial() -> None:
    docs = (REPO_ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for patch in TRIALS.glob("*.patch"):
        assert f"`{patch.stem}`" in docs, f"docs/benchmarks.md does not describe {patch.name}"
