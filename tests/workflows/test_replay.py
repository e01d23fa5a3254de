"""Determinism guard: committed histories must replay against today's workflow code."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from settings import Settings
from tests.workflows.conftest import HISTORIES
from workflows.contribution import ContributionWorkflow
from workflows.converter import data_converter

RECORDED = sorted(HISTORIES.glob("*.json"))


LIFECYCLES = {
    "completed_across_new_year",
    "expired",
    "cancelled",
    "refund_closed_manual_review_resolved",
}


def test_histories_are_committed() -> None:
    # Recorded with SHEBAO_RECORD_HISTORIES=1 pytest tests/workflows; an empty folder is a bug.
    # The before_local_steps__ ones were recorded before the local-steps-v1 patch: workflows
    # started then must still replay, as every step an ordinary activity.
    stems = {p.stem for p in RECORDED}
    assert stems >= LIFECYCLES
    assert stems >= {f"before_local_steps__{name}" for name in LIFECYCLES}
    # The before_priced_verdict__ ones were recorded before the verdict carried the amount:
    # their verdicts do not, so their workflows replay with the ASSESS step they ran then.
    assert stems >= {f"before_priced_verdict__{name}" for name in LIFECYCLES}


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_committed_history_replays_without_nondeterminism(path: Path) -> None:
    text = path.read_text()  # noqa: ASYNC240 - a small test fixture file
    history = WorkflowHistory.from_json(f"replay-{path.stem}", text)
    replayer = Replayer(
        workflows=[ContributionWorkflow], data_converter=data_converter(Settings(env="test"))
    )
    await replayer.replay_workflow(history)
