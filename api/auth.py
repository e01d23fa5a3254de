"""Authentication dependencies: the payer's bearer session (services/sessions.py), the operator."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.middleware.rate_limit import client_ip
from api.state import State
from services.operator_access import authenticate_operator
from services.sessions import signed_in_person
from storage.models import Person

_MAX_TOKEN_LENGTH = 512

# The schemes as the OpenAPI document declares them. auto_error=False: FastAPI never refuses a
# request itself, so every refusal wears our envelope (401 UNAUTHENTICATED, ...).
payer_session = HTTPBearer(
    scheme_name="payerSession",
    description="The token of POST /api/v1/session (or /session/wechat); DELETE revokes it.",
    auto_error=False,
)
operator_token = HTTPBearer(
    scheme_name="operatorToken",
    description="SHEBAO_OPERATOR_TOKEN; failures are throttled per client address.",
    auto_error=False,
)

Credentials = HTTPAuthorizationCredentials | None


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


# The token is read from the header by bearer() (stripped, bounded), as before the schemes were
# declared; the schemes' own parse only puts them on the operation.
async def payer_token(
    request: Request, _: Annotated[Credentials, Depends(payer_session)]
) -> str | None:
    return bearer(request.headers.get("Authorization"))


async def operator_bearer(
    request: Request, _: Annotated[Credentials, Depends(operator_token)]
) -> str | None:
    return bearer(request.headers.get("Authorization"))


PayerToken = Annotated[str | None, Depends(payer_token)]
OperatorToken = Annotated[str | None, Depends(operator_bearer)]


async def current_person(state: State, token: PayerToken) -> Person:
    """The signed-in payer, or 401 UNAUTHENTICATED."""
    return await signed_in_person(state, token)


async def require_operator(request: Request, state: State, token: OperatorToken) -> str:
    """The operator's bearer token must equal SHEBAO_OPERATOR_TOKEN; failures are throttled
    per client address (services/operator_access.py)."""
    await authenticate_operator(state, token, client_ip(request))
    return "operator"


CurrentPerson = Annotated[Person, Depends(current_person)]
Operator = Annotated[str, Depends(require_operator)]
