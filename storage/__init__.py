"""Persistence for shebao: SQLAlchemy 2 models, async repositories and Alembic migrations."""
