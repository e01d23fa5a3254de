"""Middleware of the API: body limits, request ids, metrics, security headers, rate limits."""
