"""Adapters: one sub-package per external system (payments, posting, treasury), plus simulators."""
