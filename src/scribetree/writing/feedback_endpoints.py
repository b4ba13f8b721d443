"""JSON API of feedback and grading: comments anchored to passages, threaded replies, rubric grades.

Comment bodies, quotes and feedback are plain text: show them as text (``textContent``), never as HTML.
Positions are Unicode code points, as everywhere in the writing API.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses, with_details
from scribetree.writing import auth
from scribetree.writing.feedback import feedback as feedback_service
from scribetree.writing.feedback_schemas import (
    CommentCreate,
    CommentRead,
    CommentUpdate,
    GradeRead,
    GradeSummary,
    GradeWrite,
    ReplyCreate,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["feedback"])


@router.get(
    "/documents/{document_id}/comments",
    response_model=list[CommentRead],
    operation_id="comments:list",
    responses=error_responses(),
)
async def list_comments(document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[CommentRead]:
    """Comment threads on a document (oldest first, replies inside), for its student(s) and the course's staff.

    Each inline comment has ``position`` (code points in the document's *current* text, found again by its quote
    and context after the student's edits) or ``outdated: true`` when the passage is gone.
    """
    return await feedback_service.list_comments(session, ctx, document_id)


@router.post(
    "/documents/{document_id}/comments",
    response_model=CommentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="comments:create",
    responses=error_responses(403, 422),
)
async def create_comment(
    document_id: uuid.UUID, data: CommentCreate, ctx: auth.WritingWrite, session: WriteSession
) -> CommentRead:
    """Comment on a student's document (staff only; students reply). With ``anchor`` ``{start, end, quote}`` the
    comment is attached to that passage of the current text; without it, it is a general comment.

    422 ``AnchorMismatch`` when the quote is not in the text (reload), ``AnchorOutOfRange`` past the end.
    The student gets an email with a link to the document.
    """
    return await feedback_service.add_comment(session, ctx, document_id, data)


@router.get(
    "/submissions/{submission_id}/comments",
    response_model=list[CommentRead],
    operation_id="comments:list_for_submission",
    responses=error_responses(),
)
async def list_submission_comments(
    submission_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession
) -> list[CommentRead]:
    """The document's comment threads, with ``position`` in the text *as submitted* (for reading a submission)."""
    return await feedback_service.list_submission_comments(session, ctx, submission_id)


@router.post(
    "/submissions/{submission_id}/comments",
    response_model=CommentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="comments:create_for_submission",
    responses=error_responses(403, 422),
)
async def create_submission_comment(
    submission_id: uuid.UUID, data: CommentCreate, ctx: auth.WritingWrite, session: WriteSession
) -> CommentRead:
    """Comment on a submission (staff only); ``anchor`` offsets are into the submitted text. The comment follows
    the passage into later versions of the document."""
    return await feedback_service.add_submission_comment(session, ctx, submission_id, data)


@router.post(
    "/comments/{comment_id}/replies",
    response_model=CommentRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="comments:reply",
    responses=error_responses(422),
)
async def reply_to_comment(
    comment_id: uuid.UUID, data: ReplyCreate, ctx: auth.WritingWrite, session: WriteSession
) -> CommentRead:
    """Reply in a comment's thread: the course's staff and the document's student(s)."""
    return await feedback_service.reply(session, ctx, comment_id, data)


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentRead,
    operation_id="comments:update",
    responses=error_responses(403, 422),
)
async def update_comment(
    comment_id: uuid.UUID, data: CommentUpdate, ctx: auth.WritingWrite, session: WriteSession
) -> CommentRead:
    """Change the text of one's own comment (403 ``NotCommentAuthor`` for anyone else's)."""
    return await feedback_service.edit_comment(session, ctx, comment_id, data)


@router.post(
    "/comments/{comment_id}/resolve",
    response_model=CommentRead,
    operation_id="comments:resolve",
    responses=error_responses(403),
)
async def resolve_comment(comment_id: uuid.UUID, ctx: auth.WritingWrite, session: WriteSession) -> CommentRead:
    """Mark a thread resolved (staff). Resolving a reply resolves its thread."""
    return await feedback_service.set_resolved(session, ctx, comment_id, resolved=True)


@router.post(
    "/comments/{comment_id}/reopen",
    response_model=CommentRead,
    operation_id="comments:reopen",
    responses=error_responses(403),
)
async def reopen_comment(comment_id: uuid.UUID, ctx: auth.WritingWrite, session: WriteSession) -> CommentRead:
    """Reopen a resolved thread (staff)."""
    return await feedback_service.set_resolved(session, ctx, comment_id, resolved=False)


@router.get(
    "/submissions/{submission_id}/grade",
    response_model=GradeRead,
    operation_id="grades:get",
    responses=error_responses(),
)
async def get_grade(submission_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> GradeRead:
    """The grade of a submission. Staff see drafts; the student gets 404 ``GradeNotFound`` until it is returned."""
    return await feedback_service.get_grade(session, ctx, submission_id)


@router.put(
    "/submissions/{submission_id}/grade",
    response_model=GradeRead,
    operation_id="grades:save",
    responses=error_responses(403, 422),
)
async def save_grade(
    submission_id: uuid.UUID, data: GradeWrite, ctx: auth.WritingWrite, session: WriteSession
) -> GradeRead | JSONResponse:
    """Score the rubric (``scores``: ``{criterion_id: level_id}``) and write overall feedback (staff). The server
    computes ``points``, the late penalty, ``total`` and ``max_points`` from the assignment.

    422 ``UnknownCriterion`` / ``UnknownLevel`` for ids not in the rubric, ``NoRubric`` for scores on an assignment
    without one. A draft stays invisible to the student until it is returned.
    """
    return await with_details(feedback_service.save_grade(session, ctx, submission_id, data))


@router.post(
    "/submissions/{submission_id}/grade/return",
    response_model=GradeRead,
    operation_id="grades:return",
    responses=error_responses(403, 409, 422),
)
async def return_grade(
    submission_id: uuid.UUID, ctx: auth.WritingWrite, session: WriteSession
) -> GradeRead | JSONResponse:
    """Return the grade and feedback to the student (staff), who is emailed and can now see it.

    422 ``RubricIncomplete`` while a criterion has no score; 409 ``GradeAlreadyReturned``; 404 ``GradeNotFound``
    when nothing has been saved yet.
    """
    return await with_details(feedback_service.return_grade(session, ctx, submission_id))


@router.get(
    "/assignments/{assignment_id}/grades",
    response_model=list[GradeSummary],
    operation_id="grades:list",
    responses=error_responses(403),
)
async def list_grades(assignment_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[GradeSummary]:
    """Every grade of an assignment, draft or returned (staff), for the submission list."""
    return await feedback_service.list_grades(session, ctx, assignment_id)
