"""Errors of feedback and grading (comments, rubric scores, returning a grade). The API renders the class name."""

from __future__ import annotations

from scribetree.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class CommentNotFound(NotFound):
    default_detail = "No such comment, or you do not have access to it."


class GradeNotFound(NotFound):
    default_detail = "There is no grade for this submission yet, or it has not been returned to the student."


class AnchorMismatch(InvalidInput):
    default_detail = (
        "The quoted passage is not in the text at these positions (the text may have changed since you selected it). "
        "Reload the document and select the passage again."
    )


class AnchorOutOfRange(InvalidInput):
    pass


class NotCommentAuthor(Forbidden):
    default_detail = "Only the person who wrote a comment can edit it."


class UnknownCriterion(InvalidInput):
    pass


class UnknownLevel(InvalidInput):
    pass


class NoRubric(InvalidInput):
    default_detail = "This assignment has no rubric, so there is nothing to score: send empty scores ({})."


class RubricIncomplete(InvalidInput):
    pass


class GradeAlreadyReturned(Conflict):
    default_detail = "This grade has already been returned to the student."
