"""The integrity domain's errors (evidence reports, responses, outcomes). Rendered as ``{"error", "detail"}``."""

from __future__ import annotations

from scribetree.core.errors import Forbidden, InvalidInput, NotFound


class ReportNotFound(NotFound):
    default_detail = "No such submission, or you do not have access to its process report."


class ReportNotYetVisible(Forbidden):
    default_detail = (
        "Your process report is shown after you submit. Your instructor has not made it visible before submission."
    )


class StaffOnly(Forbidden):
    default_detail = "Only the course's instructors and teaching assistants can do this."


class AuthorOnly(Forbidden):
    default_detail = "Only the student who submitted this work can respond to its flags."


class UnknownFlag(InvalidInput):
    default_detail = "That flag is not raised on this report; respond to one of its flags, or to 'report'."


class InvalidText(InvalidInput):
    default_detail = "The text is not valid."


class InvalidSort(InvalidInput):
    default_detail = "That column cannot be sorted on."
