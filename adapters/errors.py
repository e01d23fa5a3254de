"""The error classification every external call maps to (transient, unknown, conflict, ...)."""

from __future__ import annotations

from typing import ClassVar


class AdapterError(Exception):
    """An external system refused or failed a call; `code` is the provider's own code.

    Messages must never carry personal data: they end up in Temporal histories and logs.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, code: str, message: str = "") -> None:
        # Both go into args so the exception survives pickling and Temporal's failure converter.
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class TransientError(AdapterError):
    """Retry with the same parameters: 5xx SYSTEM_ERROR, 429 FREQUENCY_LIMITED, read timeouts."""

    retryable = True


class UnknownCodeError(TransientError):
    """A code the provider never documented: retried like a transient error, but a step that
    keeps getting one (a refund, say) hands it to an operator instead of retrying for ever."""


class OutcomeUnknownError(AdapterError):
    """A create/close/refund call timed out: it may have taken effect; query before retrying."""

    retryable = True


class ConflictError(AdapterError):
    """The request contradicts the provider's state (ORDERPAID, ORDER_CLOSED, 商户订单号重复)."""


class InvalidRequestError(AdapterError):
    """PARAM_ERROR / INVALID_REQUEST: the same request will never succeed."""


class AuthError(AdapterError):
    """SIGN_ERROR / NO_AUTH: our credentials or signing are wrong; alert an operator."""


class NotFoundError(AdapterError):
    """ORDER_NOT_EXIST / RESOURCE_NOT_EXISTS."""


# Retrying cannot fix these: an activity that raises one fails at once
# (activities/classified_errors.py). The others are retried by the step's policy.
NON_RETRYABLE_ERRORS: tuple[type[AdapterError], ...] = (InvalidRequestError, AuthError)

TRANSIENT_CODES: frozenset[str] = frozenset(
    {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "TIMEOUT", "BANKERROR", "NOT_ENOUGH"}
)
OUTCOME_UNKNOWN_CODES: frozenset[str] = frozenset({"TIMEOUT_AFTER_COMMIT", "TIMEOUT_BEFORE_COMMIT"})
CONFLICT_CODES: frozenset[str] = frozenset(
    {
        "ORDERPAID",
        "ORDER_CLOSED",
        "OUT_TRADE_NO_USED",
        "OUT_REFUND_NO_USED",
        "ORDER_EXPIRED",
        "TRADE_ERROR",
    }
)
INVALID_CODES: frozenset[str] = frozenset({"PARAM_ERROR", "INVALID_REQUEST"})
AUTH_CODES: frozenset[str] = frozenset({"SIGN_ERROR", "NO_AUTH"})
NOT_FOUND_CODES: frozenset[str] = frozenset({"ORDER_NOT_EXIST", "RESOURCE_NOT_EXISTS"})


def error_for_code(code: str, message: str = "") -> AdapterError:
    """Classify a provider error code; unknown codes count as transient (retry, then alert)."""
    if code in OUTCOME_UNKNOWN_CODES:
        return OutcomeUnknownError(code, message)
    if code in CONFLICT_CODES:
        return ConflictError(code, message)
    if code in INVALID_CODES:
        return InvalidRequestError(code, message)
    if code in AUTH_CODES:
        return AuthError(code, message)
    if code in NOT_FOUND_CODES:
        return NotFoundError(code, message)
    # An unknown code is more likely a provider hiccup than a permanent refusal; retrying
    # with back-off and letting the retry budget alert is safer than failing a payment.
    if code in TRANSIENT_CODES:
        return TransientError(code, message)
    return UnknownCodeError(code, message)
