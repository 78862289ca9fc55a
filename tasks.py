"""Invoke entry point: the harness tasks (`invoke --list`)."""

from harness.cli import namespace

__all__ = ["namespace"]
