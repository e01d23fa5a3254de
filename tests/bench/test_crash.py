"""The crash run's kill schedule and its per-kill report (bench/crash.py)."""

from __future__ import annotations

import argparse

from bench.crash import Kill, Load, kill_costs, kill_plan


def plan(shape: str, **kills: int) -> list[str]:
    counts = {"worker_kills": 2, "server_kills": 1, "api_kills": 1, "pg_kills": 1, **kills}
    return kill_plan(argparse.Namespace(shape=shape, **counts))


def test_the_production_plan_interleaves_the_kinds_and_takes_each_worker_in_turn() -> None:
    assert plan("production") == ["worker-1", "temporal", "api-1", "postgres", "worker-2"]
    assert plan("production", worker_kills=1, api_kills=2, pg_kills=0) == [
        "worker-1",
        "temporal",
        "api-1",
        "api-2",
    ]


def test_the_embedded_plan_kills_only_its_one_worker_and_the_server() -> None:
    assert plan("embedded") == ["worker", "temporal", "worker"]


def test_each_kill_is_charged_its_retries_and_the_first_answers_to_calls_sent_after_it() -> None:
    load = Load(
        retried_at=[0.5, 10.5, 11.0, 12.0],
        answered=[
            ("start", 0.2, 0.9),  # before any kill
            ("sign-in", 10.2, 10.6),  # needs no Temporal: not the server's recovery
            ("start", 10.1, 14.0),
            ("sign-in", 20.5, 21.0),
        ],
    )
    kills = [Kill("temporal", 5, at=10.0, back=12.0), Kill("postgres", 9, at=20.0)]
    [_header, server, postgres] = kill_costs(kills, load, end=30.0)
    assert server.split() == ["temporal", "5", "2.0s", "4.0s", "4.0s", "3"]
    assert postgres.split() == ["postgres", "9", "never", "1.0s", "none", "0"]
