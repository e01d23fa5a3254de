"""Adapters: one sub-package per external system: its interface and its real client."""
