"""The one registry of search attributes: what operators filter on (never personal data)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.vocabulary import ContributionStatus
from workflows.contract import ContributionInput

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


def initial(contribution: ContributionInput) -> TypedSearchAttributes:
    """Search attributes set when a contribution starts (status VERIFYING)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CONTRIBUTION_STATUS, ContributionStatus.VERIFYING.value),
            SearchAttributePair(PAYER_REF, contribution.payer_ref),
            SearchAttributePair(INSURANCE_TYPE, contribution.insurance.value),
            SearchAttributePair(FEE_MONTHS, list(contribution.months)),
            SearchAttributePair(PAYMENT_CHANNEL, contribution.channel.value),
            SearchAttributePair(AMOUNT_FEN, contribution.total_fen),
            SearchAttributePair(IS_BACK_PAYMENT, contribution.back_payment),
        ]
    )
