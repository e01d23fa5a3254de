"""docker-compose.yml validates (Debian's docker-compose, offline) with our search attributes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

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


def compose_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: apt-get install docker-compose (see .ci/run)")
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
            "migrate", "api", "worker"} <= set(services)  # fmt: skip
    assert services["postgresql"]["healthcheck"]["test"]
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert "container_name" not in services["worker"]  # replicas need generated names
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["SHEBAO_TEMPORAL_ADDRESS"] == "temporal:7233"
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
    script = "\n".join(services["temporal-namespace"]["command"])
    created = set(
        re.findall(r"search-attribute create -n default --name (\w+) --type (\w+)", script)
    )
    flags = sa.cli_flags()
    registered = {tuple(flag.split("=")) for flag in flags[1::2]}
    assert created == registered
    assert {name for name, _ in created} == {key.name for key in sa.ALL_KEYS}


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
