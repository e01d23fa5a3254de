"""`python -m scripts.audit_books`: audits the books of a live database, PASS/FAIL per check.

    .venv/bin/python -m scripts.audit_books                       # settings' database
    .venv/bin/python -m scripts.audit_books --database-url URL --with-simulator --settle-s 0

Exit code 0 when every check passes, 1 on any FAIL. The checks are in domain/books.py.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from datetime import UTC, datetime

from domain.books import Deadlines, audit, status_counts
from settings import Settings
from simulators.payments import channel_payments
from storage.books import load_books
from storage.db import make_engine, make_sessionmaker

DAY_S = 24 * 3600


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.audit_books", description=__doc__)
    parser.add_argument("--database-url", default=settings.resolved_database_url)
    parser.add_argument(
        "--sim-database-url",
        default=None,
        help="also compare with the simulated channel's orders in this database",
    )
    parser.add_argument(
        "--with-simulator",
        action="store_true",
        help="compare with the simulator database of the settings (SHEBAO_SIM_DATABASE_URL)",
    )
    parser.add_argument("--payment-window-s", type=float, default=settings.payment_window_s)
    parser.add_argument(
        "--settle-s",
        type=float,
        default=10 * DAY_S,
        help="after the payment window, how long posting + treasury + refund may take",
    )
    parser.add_argument("--refund-deadline-s", type=float, default=3 * DAY_S)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, settings: Settings) -> bool:
    engine = make_engine(args.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            books = await load_books(session)
    finally:
        await engine.dispose()
    sim_url = args.sim_database_url or (
        settings.resolved_sim_database_url if args.with_simulator else None
    )
    if sim_url:
        sim_engine = make_engine(sim_url)
        try:
            channel = await channel_payments(sim_engine)
        finally:
            await sim_engine.dispose()
        books = dataclasses.replace(books, channel_payments=channel)
    deadlines = Deadlines(args.payment_window_s, args.settle_s, args.refund_deadline_s)
    results = audit(books, datetime.now(UTC), deadlines)
    print(f"contributions by status: {status_counts(books.contributions)}")
    for result in results:
        print(result.render())
    ok = all(r.passed for r in results)
    print(f"AUDIT {'PASS' if ok else 'FAIL'} ({sum(r.passed for r in results)}/{len(results)})")
    return ok


def main(argv: list[str] | None = None) -> int:
    settings = Settings()
    args = parse_args(argv, settings)
    return 0 if asyncio.run(run(args, settings)) else 1


if __name__ == "__main__":
    sys.exit(main())
