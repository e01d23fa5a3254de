"""The use cases: sign in, options, quote, start, cancel, status, records, certificates."""
