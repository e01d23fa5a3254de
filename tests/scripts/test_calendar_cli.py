"""`python -m scripts.calendar_table load`: the official table lands in the database, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scripts import calendar_table as calendar_cli
from services.calendars import year_calendar
from settings import Settings
from storage.audit import audit_entries


async def test_load_replaces_the_provisional_year(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path
) -> None:
    assert (await year_calendar(sessionmaker, 2027)).source == "provisional"
    notice = tmp_path / "2027.json"
    notice.write_text(
        json.dumps(
            {"source": "国办发明电（测试用）", "holidays": ["2027-02-08"], "workdays": []},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    args = calendar_cli.parse_args(
        ["--database-url", db_url, "load", "2027", str(notice), "--actor", "cli:test"], Settings()
    )
    assert "2027: 1 days off" in await calendar_cli.run(args)
    loaded = await year_calendar(sessionmaker, 2027)
    assert loaded.source == "official"
    assert [d.date.isoformat() for d in loaded.days] == ["2027-02-08"]
    async with sessionmaker() as db:
        (entry,) = await audit_entries(db, subject="calendar:2027")
    assert entry.actor == "cli:test"


def test_a_bad_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notice = tmp_path / "bad.json"
    notice.write_text('{"source": "x", "holidays": ["not a date"]}', encoding="utf-8")
    assert (
        calendar_cli.main(
            ["--database-url", "postgresql+asyncpg://nowhere/x", "load", "2027", str(notice)]
        )
        == 1
    )
    assert "not loaded" in capsys.readouterr().err
