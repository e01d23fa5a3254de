"""Container health checks of compose (standard library only, run inside the image):

    python deploy/healthcheck.py api http://127.0.0.1:8000/healthz
    python deploy/healthcheck.py worker http://127.0.0.1:9464/metrics

api: /healthz answers and says the database is reachable (status "ok"; Temporal being away
only degrades it, since reads still work). worker: the SDK's Prometheus endpoint shows at least
one workflow-task poller, i.e. the worker was built and polls its task queue. Exit 0 healthy,
1 not (with the reason on stderr).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request

TIMEOUT_S = 4
# `temporal_num_pollers{...,poller_type="workflow_task",...} 2`
POLLERS = re.compile(r'^temporal_num_pollers\{[^}]*poller_type="workflow_task"[^}]*\}\s+(\S+)$')


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        return str(response.read().decode())


def api_problem(body: str) -> str | None:
    """Why the API is unhealthy, or None."""
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return "healthz answered no JSON object"
    return None if status == "ok" else f"healthz status is {status!r}"


def worker_problem(metrics: str) -> str | None:
    """Why the worker is unhealthy, or None."""
    pollers = [float(found[1]) for line in metrics.splitlines() if (found := POLLERS.match(line))]
    if not pollers:
        return "no workflow-task poller in the metrics (the worker is not polling)"
    return None if sum(pollers) > 0 else "zero workflow-task pollers"


CHECKS = {"api": api_problem, "worker": worker_problem}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in CHECKS:
        print(f"usage: {argv[0]} api|worker URL", file=sys.stderr)
        return 2
    try:
        problem = CHECKS[argv[1]](fetch(argv[2]))
    except OSError as err:
        problem = f"{argv[2]} unreachable: {err}"
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
