"""docker-compose.yml validates with Compose v2 (offline: `config` needs no engine), runs the
Temporal versions the tests run, and keeps the production shape (shards, dynamic config, loud
search attributes, internal codec, health checks)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import venv_binary
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {
    "POSTGRES_PASSWORD": "pw",
    "SHEBAO_OPERATOR_TOKEN": "op",
    "SHEBAO_PAYER_REF_KEY": "ref",
    "SHEBAO_WECHAT_APP_SECRET": "app",
    "SHEBAO_CODEC_KEYS": "k1:key",
}


def compose_binary() -> str:
    """Compose v2 (v1 is end-of-life and validates a different file format)."""
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: install Compose v2 as .ci/run does")
    done = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    found = re.search(r"version v?(\d+)\.", done.stdout)
    if found is None or int(found[1]) < 2:
        pytest.fail(f"Compose v2 needed, found {done.stdout.strip()!r}: install it as .ci/run does")
    return binary


def compose_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = compose_binary()
    return subprocess.run(
        [binary, "-f", str(path), "config"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def resolved() -> dict[str, object]:
    done = compose_config(COMPOSE, SECRETS)
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)
    assert isinstance(config, dict)
    return config


def test_compose_file_validates(resolved: dict[str, object]) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    assert {"postgresql", "temporal-schema", "temporal", "temporal-namespace", "temporal-ui",
            "migrate", "api", "worker", "codec", "proxy"} <= set(services)  # fmt: skip
    assert services["postgresql"]["healthcheck"]["test"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "container_name" not in services["worker"]  # replicas need generated names
    for name in ("api", "worker", "codec"):
        env = services[name]["environment"]
        # Through temporalio.envconfig, as a cluster of one's own or Temporal Cloud is named.
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert "SHEBAO_TEMPORAL_ADDRESS" not in env
        assert env["SHEBAO_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert services[name]["image"] == "shebao:latest"


def test_compose_refuses_to_start_without_secrets() -> None:
    done = compose_config(COMPOSE, {})
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr or "SHEBAO_" in done.stderr


def test_a_broken_compose_file_does_not_validate(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  worker:\n    image: x\n    deploy:\n      replicas: many\n")
    assert compose_config(broken, {}).returncode != 0


def test_compose_creates_exactly_the_registered_search_attributes(
    resolved: dict[str, object],
) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    service = services["temporal-namespace"]
    assert service["entrypoint"] == ["/bin/sh", "/deploy/temporal/namespace.sh"]
    namespace, retention, *attributes = service["command"]
    assert namespace == services["api"]["environment"]["TEMPORAL_NAMESPACE"]
    assert retention == "30d"
    # The script's own behaviour (idempotent, loud on a wrong type) is tested against the real
    # dev server in tests/deploy/test_namespace_script.py.
    assert attributes == sa.cli_flags()[1::2]
    assert {a.split("=")[0] for a in attributes} == {key.name for key in sa.ALL_KEYS}
    mounted = [str(v["source"]) for v in service["volumes"]]
    assert str(ROOT / "deploy" / "temporal") in mounted
    # No failure is swallowed, but "the database exists already" on a restart (the schema
    # steps right after each fail loudly if it truly is not there).
    swallowed = [line.strip() for line in COMPOSE.read_text().splitlines() if "|| true" in line]
    assert all(line.endswith("create-database || true") for line in swallowed), swallowed


def test_the_api_is_reached_only_through_the_tls_proxy_and_trusts_only_it(
    resolved: dict[str, object],
) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    assert "ports" not in services["api"]
    proxy = services["proxy"]
    published = {str(port["target"]) if isinstance(port, dict) else str(port).split(":")[-1]
                 for port in proxy["ports"]}  # fmt: skip
    assert "443" in published
    address = proxy["networks"]["edge"]["ipv4_address"]
    assert services["api"]["environment"]["SHEBAO_FORWARDED_ALLOW_IPS"] == address
    assert "edge" in services["api"]["networks"]
    lines = (ROOT / "deploy" / "Caddyfile").read_text().splitlines()
    caddyfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    assert "tls internal" in caddyfile
    assert "reverse_proxy api:8000" in caddyfile
    assert "trusted_proxies" not in caddyfile  # a client's own X-Forwarded-For is dropped
    mounted = " ".join(str(v) for v in proxy["volumes"])
    assert "Caddyfile" in mounted


def test_compose_runs_the_temporal_versions_the_tests_run(resolved: dict[str, object]) -> None:
    done = subprocess.run(
        [venv_binary("temporal"), "--version"], capture_output=True, text=True, check=True
    )
    found = re.search(r"\(Server (\S+), UI (\S+)\)", done.stdout)
    assert found, done.stdout
    server, ui = found[1], found[2]
    services = resolved["services"]
    assert isinstance(services, dict)
    assert services["temporal"]["image"] == f"temporalio/server:{server}"
    assert services["temporal-schema"]["image"] == f"temporalio/admin-tools:{server}"
    assert services["temporal-namespace"]["image"] == f"temporalio/admin-tools:{server}"
    assert services["temporal-ui"]["image"] == f"temporalio/ui:{ui}"


def test_the_temporal_server_is_set_up_for_production(resolved: dict[str, object]) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    temporal = services["temporal"]
    env = temporal["environment"]
    # Fixed at cluster creation: the default 4 would cap throughput for good.
    assert int(env["NUM_HISTORY_SHARDS"]) >= 512
    # The container's own address is advertised (the image derives it), never loopback.
    assert not str(env.get("TEMPORAL_BROADCAST_ADDRESS", "")).startswith("127.")
    assert env["BIND_ON_IP"] == "0.0.0.0"
    # The dynamic config file is mounted where DYNAMIC_CONFIG_FILE_PATH points, and exists.
    path = Path(env["DYNAMIC_CONFIG_FILE_PATH"])
    [mount] = [v for v in temporal["volumes"] if Path(v["target"]) == path.parent]
    assert mount["read_only"] is True
    local = Path(mount["source"]) / path.name
    assert local.is_file()
    config = yaml.safe_load(local.read_text())
    assert isinstance(config, dict) and config
    for key, values in config.items():
        assert isinstance(values, list) and all("value" in v for v in values), key


def test_the_codec_is_served_on_an_internal_port_only(resolved: dict[str, object]) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    codec = services["codec"]
    assert codec["command"] == ["python", "-m", "api.codec_server"]
    assert "edge" not in codec["networks"]  # the proxy's network: the proxy cannot reach it
    [port] = codec["ports"]
    assert port["host_ip"] == "127.0.0.1"
    assert str(port["target"]) == codec["environment"]["SHEBAO_CODEC_PORT"]
    endpoint = services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert endpoint == f"http://localhost:{port['published']}/codec"
    assert codec["environment"]["SHEBAO_TEMPORAL_UI_URL"] == "http://localhost:8080"
    # The payer-facing api runs in production, where it mounts no /codec
    # (tests/api/test_codec_server.py).
    assert services["api"]["environment"]["SHEBAO_ENV"] == "production"


@pytest.mark.parametrize(
    ("service", "kind", "port_setting"),
    [
        ("api", "api", "SHEBAO_API_PORT"),
        ("codec", "api", "SHEBAO_CODEC_PORT"),
        ("worker", "worker", "SHEBAO_WORKER_METRICS_ADDRESS"),
    ],
)
def test_api_codec_and_worker_health_checks_probe_what_they_serve(
    resolved: dict[str, object], service: str, kind: str, port_setting: str
) -> None:
    services = resolved["services"]
    assert isinstance(services, dict)
    check = services[service]["healthcheck"]["test"]
    assert check[:4] == ["CMD", "python", "deploy/healthcheck.py", kind]
    port = services[service]["environment"][port_setting].rsplit(":", 1)[-1]
    path = "/metrics" if kind == "worker" else "/healthz"
    assert check[4] == f"http://127.0.0.1:{port}{path}"
    assert (ROOT / "deploy" / "healthcheck.py").is_file()
