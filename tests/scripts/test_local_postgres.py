"""The local PostgreSQL of `make dev`, tests and benchmarks: from the wheel, kept or thrown away."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.local_postgres import SYSTEM_USER, LocalPostgres, free_port, start_postgres


def test_a_kept_data_directory_is_initialised_once_and_its_data_survive_a_restart(
    tmp_path: Path,
) -> None:
    data = tmp_path / "nested" / "postgres"
    server = start_postgres(data, port=free_port())
    try:
        server.ensure_database("shebao")
        server.psql("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)", "shebao")
    finally:
        server.stop()
    assert (data / "PG_VERSION").exists()  # a stop keeps what make dev wrote

    again = start_postgres(data, port=free_port())
    try:
        again.ensure_database("shebao")  # already there: nothing created, nothing lost
        assert again.psql("SELECT n FROM kept", "shebao").strip() == "42"
        assert again.psql("SHOW fsync").strip() == "on"
    finally:
        again.stop()


def test_a_throwaway_server_skips_the_disk_syncs_and_vanishes_when_stopped() -> None:
    server = start_postgres()
    try:
        assert server.psql("SHOW fsync").strip() == "off"
        assert server.psql("SHOW listen_addresses").strip() == "127.0.0.1"
        assert "pg_stat_statements" in server.psql("SHOW shared_preload_libraries")
    finally:
        server.stop()
    assert not server.data_dir.exists()


def test_databases_copied_from_a_template_hold_its_tables(postgres_server: LocalPostgres) -> None:
    template = postgres_server.create_database("tpl")
    name = template.rsplit("/", 1)[1]
    postgres_server.psql("CREATE TABLE books (id int)", name)
    copy = postgres_server.create_database(template=name)
    assert copy != template
    assert postgres_server.psql("SELECT count(*) FROM books", copy.rsplit("/", 1)[1]).strip() == "0"


def test_as_root_the_server_runs_as_its_own_system_user(postgres_server: LocalPostgres) -> None:
    owner = postgres_server.psql("SELECT current_setting('data_directory')").strip()
    uid = Path(owner).stat().st_uid
    if os.geteuid() == 0:
        import pwd

        assert pwd.getpwuid(uid).pw_name == SYSTEM_USER
    else:
        assert uid == os.geteuid()
