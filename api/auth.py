"""Authentication: payers' bearer sessions (token hash in the database) and the operator token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header

from api.errors import ApiError
from api.state import State
from services.timefmt import utc_now
from storage import sessions
from storage.models import Person

# The header is read by hand (not fastapi.security) so every refusal wears the envelope.
AuthorizationHeader = Annotated[str | None, Header(alias="Authorization")]

_MAX_TOKEN_LENGTH = 512


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


def unauthenticated() -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", "请先登录或重新登录", None)


async def start_session(state: State, person: Person) -> str:
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


async def current_person(state: State, authorization: AuthorizationHeader = None) -> Person:
    """The signed-in payer, or 401 UNAUTHENTICATED."""
    token = _bearer(authorization)
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


async def require_operator(state: State, authorization: AuthorizationHeader = None) -> str:
    """The operator's bearer token must equal SHEBAO_OPERATOR_TOKEN (constant-time compare)."""
    token = _bearer(authorization)
    expected = state.settings.operator_token
    if token is None or not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "OPERATOR_UNAUTHORIZED", "操作员身份验证失败", None)
    return "operator"


CurrentPerson = Annotated[Person, Depends(current_person)]
Operator = Annotated[str, Depends(require_operator)]
