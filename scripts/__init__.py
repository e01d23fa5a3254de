"""Developer scripts: the local stack and demo data."""
