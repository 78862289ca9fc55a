"""Invoke entry point: the harness tasks (`invoke --list`)."""

from harness.tasks import namespace

__all__ = ["namespace"]
