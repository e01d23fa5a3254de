"""Tests of the API's middleware."""
