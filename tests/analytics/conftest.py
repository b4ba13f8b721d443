"""Fixtures of the writing tests (a course with staff, two students and a published assignment), reused."""

from tests.writing.conftest import client_for, ctx_for, klass

__all__ = ["client_for", "ctx_for", "klass"]
