"""API tests: the FastAPI app against a real worker and the Temporal dev server."""
