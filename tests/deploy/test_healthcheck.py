"""deploy/healthcheck.py (compose's health checks) against a real HTTP server: healthy only when
the API's database answers and the worker has workflow-task pollers."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"
POLLING = (
    'temporal_num_pollers{namespace="default",poller_type="sticky_workflow_task",'
    'task_queue="shebao"} 4\n'
    'temporal_num_pollers{namespace="default",poller_type="workflow_task",'
    'task_queue="shebao"} 1\n'
)


@pytest.fixture
def serving() -> Iterator[tuple[str, dict[str, str]]]:
    """A server answering each path with the body the test puts in the dict."""
    bodies: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write((body or "").encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()


def probe(kind: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), kind, url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("kind", "body", "healthy"),
    [
        ("api", '{"status": "ok", "database": "ok", "temporal": "unavailable"}', True),
        ("api", '{"status": "degraded", "database": "unavailable", "temporal": "ok"}', False),
        ("api", "<html>bad gateway</html>", False),
        ("worker", POLLING, True),
        ("worker", POLLING.replace("} 1\n", "} 0\n"), False),
        ("worker", "# HELP temporal_request\ntemporal_request_total 3\n", False),
    ],
)
def test_health_is_what_the_body_says(
    serving: tuple[str, dict[str, str]], kind: str, body: str, healthy: bool
) -> None:
    base, bodies = serving
    bodies["/probe"] = body
    done = probe(kind, f"{base}/probe")
    assert (done.returncode == 0) is healthy, done.stderr


def test_an_unreachable_or_failing_endpoint_is_unhealthy(
    serving: tuple[str, dict[str, str]],
) -> None:
    base, _ = serving
    assert probe("api", f"{base}/missing").returncode == 1
    assert probe("worker", "http://127.0.0.1:9/metrics").returncode == 1
    assert probe("nonsense", base).returncode == 2
