"""Fixtures for the AI partner tests: the writing tests' class (a course, its staff, two students, a published
assignment) and clients for anyone."""

from tests.writing.conftest import client_for, ctx_for, klass

__all__ = ["client_for", "ctx_for", "klass"]
