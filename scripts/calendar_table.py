"""`python -m scripts.calendar_table load <year> <file>`: load a year's official calendar (audited).

The file is JSON, as the operator route `PUT /api/v1/operator/calendar/{year}` takes it:

    {"source": "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）",
     "holidays": ["2027-01-01", ...], "workdays": ["2027-02-20", ...]}
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from services.calendars import CalendarTableIn, load_official_year
from services.errors import ServiceError
from settings import Settings
from storage.db import make_engine, make_sessionmaker


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.calendar_table", description=__doc__)
    parser.add_argument("--database-url", default=settings.resolved_database_url)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load (or replace) a year's official table")
    load.add_argument("year", type=int)
    load.add_argument("file", type=Path)
    load.add_argument("--actor", default=f"cli:{getpass.getuser()}")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> str:
    body = CalendarTableIn.model_validate(json.loads(args.file.read_text(encoding="utf-8")))
    engine = make_engine(args.database_url)
    try:
        loaded = await load_official_year(make_sessionmaker(engine), args.actor, args.year, body)
    finally:
        await engine.dispose()
    return (
        f"{loaded.year}: {sum(d.kind == 'non_working' for d in loaded.days)} days off, "
        f"{sum(d.kind == 'working' for d in loaded.days)} 调休 working days ({loaded.source})"
    )


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    args = parse_args(argv, settings)
    try:
        print(asyncio.run(run(args)))
    except (OSError, ValueError, ValidationError, ServiceError) as err:
        print(f"not loaded: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
