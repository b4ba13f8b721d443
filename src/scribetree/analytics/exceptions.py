"""The analytics domain's errors. The API renders ``{"error": <class name>, "detail": ..., **extra}``."""

from __future__ import annotations

from scribetree.core.errors import InvalidInput, NotFound


class AnalyticsNotFound(NotFound):
    default_detail = "No such course, assignment, student or document, or you do not have access to its figures."


class InvalidRange(InvalidInput):
    default_detail = "The number of days must be between 1 and 366."
