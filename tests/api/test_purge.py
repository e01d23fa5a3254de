"""The daily purge: expired sessions, quotes, captchas, idempotency keys and limit windows go;
live ones stay; the schedule runs it at 03:30 Shanghai time."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from domain.vocabulary import Insurance
from services.timefmt import utc_now
from storage import captchas, idempotency, limit_counters, quotes, sessions
from storage.models import CaptchaRow, IdempotencyRecord, LimitCounter, Quote, SessionRow
from tests.api.conftest import ApiStack
from workflows.contract import PurgeCounts
from workflows.purge import PurgeWorkflow


async def _seed(api: ApiStack, person_id: str, *, age: timedelta) -> None:
    """One row of each kind, expired `age` ago (negative: still live for that long)."""
    now = utc_now()
    tag = uuid.uuid4().hex[:12]
    async with api.sessions.begin() as db:
        await sessions.create_session(
            db, token_hash=f"t{tag}", person_id=person_id, at=now, expires_at=now - age
        )
        await quotes.add_quote(
            db,
            person_id=person_id,
            insurance=Insurance.PENSION,
            months=["2026-01"],
            grade=60,
            back_payment=False,
            lines=[],
            total_fen=1,
            created_at=now,
            expires_at=now - age - timedelta(days=2),
        )
        await captchas.add_captcha(
            db,
            captcha_id=f"cap_{tag}",
            answer_hash="x",
            client_key="k",
            at=now,
            expires_at=now - age - timedelta(hours=2),
        )
        await idempotency.claim_key(
            db,
            key=f"k{tag}",
            scope="start",
            request_hash="h",
            contribution_id=None,
            at=now - age - timedelta(days=8),
        )
        await limit_counters.hit(
            db, f"test:{tag}", now - age - timedelta(hours=1), timedelta(hours=1)
        )


async def _count(api: ApiStack) -> dict[str, int]:
    async with api.sessions() as db:
        return {
            model.__tablename__: int(await db.scalar(select(func.count()).select_from(model)) or 0)
            for model in (SessionRow, Quote, CaptchaRow, IdempotencyRecord, LimitCounter)
        }


async def test_the_purge_deletes_what_expired_and_keeps_what_is_live(api: ApiStack) -> None:
    payer = await api.register()
    # A first run clears whatever other tests left expired, so the counts below are ours.
    await api.env.client.execute_workflow(
        PurgeWorkflow.run, id=f"purge-{uuid.uuid4().hex}", task_queue=api.settings.task_queue
    )
    await _seed(api, payer.person_id, age=timedelta(minutes=5))
    await _seed(api, payer.person_id, age=-timedelta(days=30))
    before = await _count(api)
    counts = await api.env.client.execute_workflow(
        PurgeWorkflow.run, id=f"purge-{uuid.uuid4().hex}", task_queue=api.settings.task_queue
    )
    assert counts == PurgeCounts(
        sessions=1, quotes=1, captchas=1, idempotency_keys=1, limit_counters=1
    )
    after = await _count(api)
    assert {table: before[table] - after[table] for table in before} == dict.fromkeys(before, 1)
    # The payer's own session is live and still works.
    assert (await api.http.get("/api/v1/records", headers=payer.auth)).status_code == 200
