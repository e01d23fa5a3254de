"""Payment providers registered by name: a contribution records the one it used."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from adapters.payments.interface import CallbackVerifier, PaymentChannel
from domain.payments import PaymentState, RefundState
from domain.vocabulary import Channel


class UnknownProvider(LookupError):
    """No provider is registered under this name (or it does not offer this product)."""


@dataclass(frozen=True)
class Provider:
    """One payment provider as the rest of the system sees it."""

    name: str
    products: frozenset[str]
    channel: PaymentChannel
    # Verifies the provider's callbacks for POST /api/v1/payments/{name}/notify; None when
    # nothing arrives over HTTP (an in-process simulator hands its callbacks over directly).
    callbacks: CallbackVerifier | None
    notify_path: str
    # The provider's own words for an order just created and for a paid one (kept for display).
    pending_state: str
    paid_state: str
    # Its own states, as they appear in its bill, mapped to ours; ValueError for unknown ones.
    payment_state: Callable[[str], PaymentState]
    refund_state: Callable[[str], RefundState]
    # What actually paid (零钱 or a bank card) from the provider's word for it (WeChat: the
    # bank_type); None when it does not say.
    paid_with: Callable[[str | None], Channel | None] = lambda _: None

    def notify_url(self, base: str) -> str:
        """Where the provider sends its callbacks, under the public base URL."""
        return f"{base.rstrip('/')}{self.notify_path}"


class PaymentProviders:
    """The providers a process knows, by name; `default` is the one new contributions use."""

    def __init__(self, *providers: Provider, default: str | None = None) -> None:
        self._by_name: dict[str, Provider] = {}
        for p in providers:
            self.register(p)
        self._default = default or (providers[0].name if providers else "")

    def register(self, provider: Provider) -> None:
        """Add (or replace) the provider under its name."""
        self._by_name[provider.name] = provider

    def get(self, name: str) -> Provider:
        """The provider registered as `name`; UnknownProvider otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownProvider(name) from None

    def find(self, name: str) -> Provider | None:
        return self._by_name.get(name)

    @property
    def default(self) -> Provider:
        return self.get(self._default)

    @default.setter
    def default(self, name: str) -> None:
        self.get(name)  # it must be registered
        self._default = name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def __iter__(self) -> Iterator[Provider]:
        return iter(list(self._by_name.values()))
