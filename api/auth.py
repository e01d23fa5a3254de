"""Authentication dependencies: the payer's bearer session (services/sessions.py), the operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.middleware.rate_limit import client_ip
from api.state import State
from services.operator_access import authenticate_operator
from services.sessions import signed_in_person
from storage.models import Person

# The header is read by hand (not fastapi.security) so every refusal wears the envelope.
AuthorizationHeader = Annotated[str | None, Header(alias="Authorization")]

_MAX_TOKEN_LENGTH = 512


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


async def current_person(state: State, authorization: AuthorizationHeader = None) -> Person:
    """The signed-in payer, or 401 UNAUTHENTICATED."""
    return await signed_in_person(state, bearer(authorization))


async def require_operator(
    request: Request, state: State, authorization: AuthorizationHeader = None
) -> str:
    """The operator's bearer token must equal SHEBAO_OPERATOR_TOKEN; failures are throttled
    per client address (services/operator_access.py)."""
    await authenticate_operator(state, bearer(authorization), client_ip(request))
    return "operator"


CurrentPerson = Annotated[Person, Depends(current_person)]
Operator = Annotated[str, Depends(require_operator)]
