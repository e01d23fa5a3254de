"""The shebao HTTP API: a FastAPI app factory, its routers and the simulator pages."""
