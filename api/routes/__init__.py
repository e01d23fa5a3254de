"""The API's routers, one module per area of the contract (docs/api.md)."""
