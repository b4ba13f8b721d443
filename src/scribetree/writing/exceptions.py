"""The writing domain's errors. The API renders ``{"error": <class name>, "detail": ..., **extra}``."""

from __future__ import annotations

from scribetree.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ScribetreeError, TooLarge


class WritingError(ScribetreeError):
    pass


class DocumentNotFound(NotFound):
    default_detail = "No such document, or you do not have access to it."


class VersionNotFound(NotFound):
    default_detail = "No such version of this document."


class SubmissionNotFound(NotFound):
    default_detail = "No such submission, or you do not have access to it."


# ---- malformed batches (422, nothing applied) ------------------------------------------------------------


class InvalidOp(InvalidInput):
    """Base of the op errors; ``op_index`` (in the body) names the offending op of the batch."""

    default_detail = "An operation of the batch is not valid."


class MalformedOp(InvalidOp):
    pass


class UnknownOpKind(InvalidOp):
    pass


class InvalidOpLength(InvalidOp):
    pass


class OpOutOfRange(InvalidOp):
    pass


class HashMismatch(InvalidInput):
    default_detail = (
        "After applying the batch, the document's content hash is not the one you sent, so nothing was applied. "
        "Your copy differs from the server's: reload the document."
    )


# ---- limits (413, nothing applied) -----------------------------------------------------------------------


class BatchTooLarge(TooLarge):
    pass


class DocumentTooLarge(TooLarge):
    pass


# ---- state conflicts (409) -------------------------------------------------------------------------------


class SeqGap(Conflict):
    pass


class StaleRevision(Conflict):
    pass


class DocumentSubmitted(Conflict):
    default_detail = (
        "This document has been submitted and is read-only. Ask your instructor to reopen it if you need to change it."
    )


class NotSubmitted(Conflict):
    default_detail = "This document is not submitted, so there is nothing to reopen."


class ResubmissionClosed(Conflict):
    pass


class NoGroup(Conflict):
    default_detail = "This is a group assignment and you are not in a group yet. Ask your instructor to add you to one."


class AiStatementRequired(InvalidInput):
    default_detail = (
        "This assignment asks for a statement of how you used AI tools (or that you did not). Write it before "
        "submitting."
    )


class StudentsOnly(Forbidden):
    default_detail = "Only students of the course write and submit documents for an assignment."


class StaffOnly(Forbidden):
    default_detail = "Only the course's instructors and teaching assistants can do this."


class SubmissionClosed(Conflict):
    default_detail = (
        "The due date has passed and this assignment does not accept late work. Ask your instructor if you need "
        "an extension."
    )


class SeqReused(Conflict):
    default_detail = (
        "This session already sent a different batch with this seq. Each batch of a session needs the next seq; "
        "reload the document to start a new session."
    )


class InvalidText(InvalidInput):
    pass
