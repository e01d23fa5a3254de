"""Sign in and sessions: the identity trio checked, a bearer token issued, a token resolved."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from services.context import AppState
from services.errors import ServiceError
from services.people import IdentityBody, PersonOut, look_up
from services.timefmt import utc_now
from storage import sessions, sign_outs
from storage.models import Person


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unauthenticated() -> ServiceError:
    return ServiceError(401, "UNAUTHENTICATED", "请先登录或重新登录", None)


async def sign_in(state: AppState, body: IdentityBody) -> tuple[str, PersonOut]:
    """A new session for the person the trio names (401 IDENTITY_MISMATCH on any mismatch)."""
    person, shown = await look_up(state, body)
    return await start_session(state, person), shown


async def start_session(state: AppState, person: Person) -> str:
    """A new bearer token for the person; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    expires_at = now + timedelta(minutes=state.settings.session_ttl_minutes)
    async with state.sessions.begin() as db:
        await sessions.create_session(
            db, token_hash=token_hash(token), person_id=person.id, at=now, expires_at=expires_at
        )
    # Committed: the payer's next request to this process needs no lookup.
    state.signed_in.put(token_hash(token), person, expires_at)
    return token


async def sign_out(state: AppState, token: str | None) -> None:
    """End the token's session: its row goes, and this process forgets it at once."""
    if token is None:
        return
    key = token_hash(token)
    async with state.sessions.begin() as db:
        await sessions.delete_session(db, key)
        # Heard by every API process when this commits: each forgets the token at once.
        await sign_outs.announce(db, key)
    state.signed_in.forget(key)


def sign_outs_heard(state: AppState) -> AbstractAsyncContextManager[None]:
    """While inside, this process hears every sign-out and its session cache may remember."""
    return sign_outs.listening(
        state.settings.resolved_database_url, state.signed_in.forget, state.signed_in.suspend
    )


async def signed_in_person(state: AppState, token: str | None) -> Person:
    """The person a live session token belongs to, or 401 UNAUTHENTICATED."""
    if token is None:
        raise unauthenticated()
    key = token_hash(token)
    now = utc_now()
    person = state.signed_in.get(key, now)
    if person is not None:
        return person
    async with state.sessions() as db:
        found = await sessions.get_live_session_person(db, key, now)
    if found is None:
        raise unauthenticated()
    person, expires_at = found
    state.signed_in.put(key, person, expires_at)
    return person
