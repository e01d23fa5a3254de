"""The payer's mobile H5 pages (Jinja2 templates and plain JS calling the JSON API)."""
