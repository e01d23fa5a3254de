"""The one data converter every Temporal client in shebao uses (API, worker, tests)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter


def data_converter() -> DataConverter:
    """Pydantic models in, pydantic models out; the encrypting codec is layered on here."""
    return pydantic_data_converter


async def connect(address: str, namespace: str) -> Client:
    """A Temporal client with shebao's data converter."""
    return await Client.connect(address, namespace=namespace, data_converter=data_converter())
