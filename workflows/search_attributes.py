"""The one registry of search attributes: what operators filter on (never personal data)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CONTRIBUTION_STATUS = SearchAttributeKey.for_keyword("ContributionStatus")
PAYER_REF = SearchAttributeKey.for_keyword("PayerRef")
INSURANCE_TYPE = SearchAttributeKey.for_keyword("InsuranceType")
FEE_MONTHS = SearchAttributeKey.for_keyword_list("FeeMonths")
PAYMENT_CHANNEL = SearchAttributeKey.for_keyword("PaymentChannel")
AMOUNT_FEN = SearchAttributeKey.for_int("AmountFen")
IS_BACK_PAYMENT = SearchAttributeKey.for_bool("IsBackPayment")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    CONTRIBUTION_STATUS,
    PAYER_REF,
    INSURANCE_TYPE,
    FEE_MONTHS,
    PAYMENT_CHANNEL,
    AMOUNT_FEN,
    IS_BACK_PAYMENT,
)

# The names `temporal server start-dev --search-attribute NAME=TYPE` and compose expect.
_CLI_TYPES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "INT": "Int",
    "BOOL": "Bool",
}


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for the dev server."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}={_CLI_TYPES[key.indexed_value_type.name]}"]
    return flags


def initial(
    *,
    payer_ref: str,
    insurance: str,
    months: list[str],
    channel: str,
    amount_fen: int,
    back_payment: bool,
    status: str,
) -> TypedSearchAttributes:
    """Search attributes set when a contribution starts."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CONTRIBUTION_STATUS, status),
            SearchAttributePair(PAYER_REF, payer_ref),
            SearchAttributePair(INSURANCE_TYPE, insurance),
            SearchAttributePair(FEE_MONTHS, months),
            SearchAttributePair(PAYMENT_CHANNEL, channel),
            SearchAttributePair(AMOUNT_FEN, amount_fen),
            SearchAttributePair(IS_BACK_PAYMENT, back_payment),
        ]
    )
