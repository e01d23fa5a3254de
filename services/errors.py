"""The service error: a stable code, an HTTP status hint, a Chinese message, the field, details.

Services raise it for answers given on purpose (not found, refused, unavailable); api/errors.py
turns it into the JSON error envelope, so services never speak HTTP frameworks.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from domain.errors import DomainError

log = logging.getLogger("shebao.services")

INTERNAL_MESSAGE = "系统繁忙，请稍后再试"

# Domain codes whose HTTP status is not the default 422.
_DOMAIN_STATUS: dict[str, int] = {"MONTH_IN_FLIGHT": 409}


class ServiceError(Exception):
    """An answer on purpose: status hint, code, Chinese message, field, details (contract)."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        field: str | None = None,
        **details: Any,
    ) -> None:
        # Code and message only: the args end up in logs and tracebacks.
        super().__init__(f"{code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.details = details

    def body(self) -> dict[str, Any]:
        """The envelope's body: {"code", "message", "field"} plus the details."""
        return {"code": self.code, "message": self.message, "field": self.field, **self.details}


def month_in_flight(holder: str | None) -> ServiceError:
    """409 MONTH_IN_FLIGHT naming the live contribution that holds the month."""
    return ServiceError(
        409, "MONTH_IN_FLIGHT", "该费款所属期已有正在处理的缴费", "months", contribution_id=holder
    )


def domain_error(err: DomainError) -> ServiceError:
    """A DomainError as a ServiceError (422 unless the contract says otherwise)."""
    return ServiceError(_DOMAIN_STATUS.get(err.code, 422), err.code, err.message, err.field)


def unavailable() -> ServiceError:
    """503: a system we depend on (Temporal) cannot be reached now; the client may retry."""
    return ServiceError(503, "SERVICE_UNAVAILABLE", "服务暂不可用，请稍后再试", None)


def log_unexpected(exc: BaseException, where: str) -> None:
    """Log an unexpected failure by type and code location only: messages may hold input."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s in %s\n%s", type(exc).__name__, where, frames)
