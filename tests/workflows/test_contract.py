"""The workflow contract holds: each step implemented once, as typed; names as documented."""

from __future__ import annotations

import re
import typing
from collections.abc import Callable

import pytest
from temporalio import activity, workflow

from activities.contribution import ContributionActivities
from activities.purge import PurgeActivities
from activities.reconciliation import ReconciliationActivities
from activities.reminders import ReminderActivities
from settings import REPO_ROOT
from workflows.contract import (
    PAYMENT_NOTIFIED,
    REFUND_NOTIFIED,
    ContributionSteps,
    PurgeSteps,
    ReconciliationSteps,
    ReminderSteps,
    ReviewAction,
    steps_of,
)
from workflows.contribution import ContributionWorkflow

PAIRS = [
    (ContributionSteps, ContributionActivities),
    (ReconciliationSteps, ReconciliationActivities),
    (PurgeSteps, PurgeActivities),
    (ReminderSteps, ReminderActivities),
]


def _implementations(holder: type) -> dict[str, list[Callable[..., object]]]:
    """The activity methods of a class, by the name they are registered under."""
    found: dict[str, list[Callable[..., object]]] = {}
    for fn in vars(holder).values():
        definition = activity._Definition.from_callable(fn) if callable(fn) else None
        if definition is not None and definition.name is not None:
            found.setdefault(definition.name, []).append(fn)
    return found


@pytest.mark.parametrize(("steps", "holder"), PAIRS, ids=lambda x: x.__name__)
def test_every_step_has_exactly_one_implementation_and_nothing_else_is_registered(
    steps: type, holder: type
) -> None:
    implemented = _implementations(holder)
    assert sorted(implemented) == sorted(s.name for s in steps_of(steps))
    assert all(len(fns) == 1 for fns in implemented.values())


@pytest.mark.parametrize(("steps", "holder"), PAIRS, ids=lambda x: x.__name__)
def test_each_implementation_takes_and_gives_the_types_the_step_declares(
    steps: type, holder: type
) -> None:
    implemented = _implementations(holder)
    for step in steps_of(steps):
        (fn,) = implemented[step.name]
        hints = typing.get_type_hints(fn)
        returns = hints.pop("return")
        assert list(hints.values()) == [step.arg_type], step.name
        assert returns == step.result_type, step.name


def test_the_workflow_takes_its_signals_under_the_contract_names() -> None:
    definition = workflow._Definition.from_class(ContributionWorkflow)
    assert definition is not None
    assert {PAYMENT_NOTIFIED, REFUND_NOTIFIED} <= set(definition.signals)


def test_the_documented_review_actions_are_the_contract_ones() -> None:
    # The resolve route accepts exactly ReviewAction's values; the README tells clients which.
    readme = (REPO_ROOT / "README.md").read_text()
    documented = re.findall(r'\{"action":((?:"\w+"\|?)+)', readme)
    assert documented
    for spelled in documented:
        assert set(re.findall(r'"(\w+)"', spelled)) == {a.value for a in ReviewAction}
