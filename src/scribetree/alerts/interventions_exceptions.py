"""The interventions' errors. The API renders ``{"error": <class name>, "detail": ...}``."""

from __future__ import annotations

from scribetree.core.errors import Conflict, InvalidInput, NotFound


class InterventionNotFound(NotFound):
    default_detail = "No such intervention, or you do not teach its course."


class InterventionStudentNotFound(NotFound):
    default_detail = "No such student in this course, or you do not teach it."


class InterventionInvalid(InvalidInput):
    default_detail = "The intervention's parameters are not valid."


class CheckInTimeInvalid(InvalidInput):
    default_detail = "The check-in must be in the future and within 90 days."


class AssignmentNotInCourse(InvalidInput):
    default_detail = "The assignment is not one of this course's."


class AlertClosed(Conflict):
    default_detail = "The alert is resolved or dismissed; act on the student from the course's student list instead."
