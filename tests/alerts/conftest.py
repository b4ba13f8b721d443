"""Fixtures for the alerts tests: the writing tests' class (a course with an instructor, a TA, two students and a
published assignment) and clients for anyone."""

from tests.writing.conftest import client_for, ctx_for, klass

__all__ = ["client_for", "ctx_for", "klass"]
