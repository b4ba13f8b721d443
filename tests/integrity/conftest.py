"""Integrity tests use the writing tests' class: a course, its staff, two students and an assignment."""

from tests.writing.conftest import client_for, ctx_for, klass  # noqa: F401 (fixtures, shared)
