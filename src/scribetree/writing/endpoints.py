"""JSON API of the writing log: documents, edit batches, versions, writing sessions, submissions.

The full contract (op format, error codes, limits, snapshot rules) is in docs/api.md, section "Writing".
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import JSONResponse, Response

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses, with_details
from scribetree.writing import auth, ops
from scribetree.writing.schemas import (
    BatchAccepted,
    BatchCreate,
    CheckpointCreate,
    Contribution,
    DiffRead,
    DocumentRead,
    EditBatchPage,
    RevisionText,
    SubmissionRead,
    SubmissionReceipt,
    SubmissionRow,
    SubmitRequest,
    VersionRead,
    VersionSummary,
    WritingSessionRead,
)
from scribetree.writing.service import document as document_service
from scribetree.writing.service import document_read

router = APIRouter(route_class=UnitOfWorkRoute, tags=["writing"])


@router.post(
    "/assignments/{assignment_id}/document",
    response_model=DocumentRead,
    operation_id="documents:open",
    responses=error_responses(403, 409),
)
async def open_my_document(
    assignment_id: uuid.UUID, ctx: auth.WritingWrite, session: ReadSession, write: WriteSession
) -> DocumentRead:
    """Open the caller's document for an assignment (the group's for a group assignment), creating it if new.

    Students only (staff get 403 ``StudentsOnly``); a student not yet in a group of a group assignment gets 409
    ``NoGroup``. The answer carries the text, ``revision``, ``content_hash`` and the batch ``limits``.
    """
    return document_read(await document_service.open_mine(session, ctx, assignment_id, write_session=write))


@router.get(
    "/documents/{document_id}", response_model=DocumentRead, operation_id="documents:get", responses=error_responses()
)
async def get_document(
    document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession, audit_session: WriteSession
) -> DocumentRead:
    """A document with its current text: for its author (or group) and the course's staff (audited)."""
    return document_read(await document_service.get(session, ctx, document_id, audit_session=audit_session))


@router.post(
    "/documents/{document_id}/batches",
    response_model=BatchAccepted,
    operation_id="documents:batch",
    responses=error_responses(403, 409, 413, 422),
)
async def post_batch(
    document_id: uuid.UUID, body: BatchCreate, ctx: auth.WritingWrite, read: ReadSession, session: WriteSession
) -> BatchAccepted | JSONResponse:
    """Append a batch of edit operations and apply it to the document, all or nothing.

    Idempotent on ``(session_id, seq)``: a resent batch gets the first answer again with ``replayed: true``.
    Errors (nothing applied): 409 ``SeqGap`` (with ``expected_seq``), 409 ``StaleRevision`` (with ``current``:
    revision, content_hash, text), 409 ``DocumentSubmitted``, 409 ``SeqReused``, 413 ``BatchTooLarge`` /
    ``DocumentTooLarge`` (with ``limit``), 422 ``MalformedOp`` / ``UnknownOpKind`` / ``InvalidOpLength`` /
    ``OpOutOfRange`` (with ``op_index``), 422 ``HashMismatch`` (with the server's ``revision``).
    """
    return await with_details(
        document_service.apply_batch(session, ctx, document_id, body, read_session=read, commit_now=True)
    )


@router.get(
    "/documents/{document_id}/batches",
    response_model=EditBatchPage,
    operation_id="documents:batches",
    responses=error_responses(),
)
async def list_batches(
    document_id: uuid.UUID,
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
    after: Annotated[uuid.UUID | None, Query(description="The last batch id of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EditBatchPage:
    """The document's event log: accepted batches with their ops, author and times, oldest first (audited for
    staff)."""
    return await document_service.list_batches(session, ctx, document_id, after, limit, audit_session=audit_session)


@router.get(
    "/documents/{document_id}/versions",
    response_model=list[VersionSummary],
    operation_id="versions:list",
    responses=error_responses(),
)
async def list_versions(document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[Any]:
    """The document's versions (snapshots, checkpoints, submissions, restores), newest first, without texts."""
    return await document_service.list_versions(session, ctx, document_id)


@router.post(
    "/documents/{document_id}/versions",
    response_model=VersionSummary,
    status_code=status.HTTP_201_CREATED,
    operation_id="versions:checkpoint",
    responses=error_responses(403, 422),
)
async def create_checkpoint(
    document_id: uuid.UUID, body: CheckpointCreate, ctx: auth.WritingWrite, session: WriteSession
) -> Any:
    """Save the current text as a named checkpoint (the author or group only)."""
    return await with_details(document_service.checkpoint(session, ctx, document_id, body))


@router.get(
    "/documents/{document_id}/versions/{version_id}",
    response_model=VersionRead,
    operation_id="versions:get",
    responses=error_responses(),
)
async def get_version(
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
) -> Any:
    """One version with its text."""
    return await document_service.get_version(session, ctx, document_id, version_id, audit_session=audit_session)


@router.get(
    "/documents/{document_id}/versions/{version_id}/diff",
    response_model=DiffRead,
    operation_id="versions:diff",
    responses=error_responses(),
)
async def diff_version(
    document_id: uuid.UUID,
    version_id: uuid.UUID,
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
    against: Annotated[uuid.UUID | None, Query(description="Another version; omitted: the current text.")] = None,
) -> DiffRead:
    """Word-level diff from this version to ``against`` (or to the current text): equal/insert/delete segments."""
    return await document_service.diff(session, ctx, document_id, version_id, against, audit_session=audit_session)


@router.post(
    "/documents/{document_id}/versions/{version_id}/restore",
    response_model=DocumentRead,
    operation_id="versions:restore",
    responses=error_responses(403, 409),
)
async def restore_version(
    document_id: uuid.UUID, version_id: uuid.UUID, ctx: auth.WritingWrite, session: WriteSession
) -> DocumentRead:
    """Make this version's text current again: a new revision and a ``restore`` version; nothing is deleted.

    Other open tabs get 409 ``StaleRevision`` on their next batch and rebase onto the restored text.
    """
    return document_read(await document_service.restore(session, ctx, document_id, version_id))


@router.get(
    "/documents/{document_id}/revisions/{revision}",
    response_model=RevisionText,
    operation_id="documents:revision",
    responses=error_responses(),
)
async def get_revision(
    document_id: uuid.UUID,
    revision: Annotated[int, Path(ge=0, le=2**31 - 1)],
    ctx: auth.WritingRead,
    session: ReadSession,
    audit_session: WriteSession,
) -> RevisionText:
    """The text exactly as it was at ``revision``, rebuilt from the nearest snapshot plus the later batches."""
    doc, text = await document_service.text_at(session, ctx, document_id, revision, audit_session=audit_session)
    return RevisionText(
        document_id=doc.id,
        revision=revision,
        text=text,
        content_hash=ops.content_hash(text),
        word_count=ops.word_count(text),
    )


@router.get(
    "/documents/{document_id}/sessions",
    response_model=list[WritingSessionRead],
    operation_id="documents:sessions",
    responses=error_responses(),
)
async def list_writing_sessions(document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[Any]:
    """Writing sessions derived from the batches: start, end (an idle gap ends one), active time, words."""
    return await document_service.list_sessions(session, ctx, document_id)


@router.get(
    "/documents/{document_id}/contributions",
    response_model=list[Contribution],
    operation_id="documents:contributions",
    responses=error_responses(403),
)
async def list_contributions(document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[Contribution]:
    """Staff: who wrote what in a (group) document: batches and characters inserted and deleted per author."""
    return await document_service.contributions(session, ctx, document_id)


@router.post(
    "/documents/{document_id}/submit",
    response_model=SubmissionRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="documents:submit",
    responses=error_responses(403, 409, 422),
)
async def submit_document(
    document_id: uuid.UUID, body: SubmitRequest, ctx: auth.WritingWrite, session: WriteSession
) -> Any:
    """Submit the current text (the client has asked the student to confirm). The document becomes read-only.

    ``revision`` must be the one the student confirmed (else 409 ``StaleRevision``). 409 ``DocumentSubmitted``,
    409 ``SubmissionClosed`` (late and the late policy is ``reject``), 422 ``AiStatementRequired``.
    """
    return await with_details(document_service.submit(session, ctx, document_id, body))


@router.post(
    "/documents/{document_id}/reopen",
    response_model=DocumentRead,
    operation_id="documents:reopen",
    responses=error_responses(409),
)
async def reopen_document(document_id: uuid.UUID, ctx: auth.WritingWrite, session: WriteSession) -> DocumentRead:
    """Make a submitted document editable again: staff always; the student when the resubmission policy allows
    (409 ``ResubmissionClosed`` otherwise; 409 ``NotSubmitted`` if it is not submitted)."""
    return document_read(await document_service.reopen(session, ctx, document_id))


@router.get(
    "/documents/{document_id}/submissions",
    response_model=list[SubmissionRead],
    operation_id="documents:submissions",
    responses=error_responses(),
)
async def list_document_submissions(document_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> list[Any]:
    """Every submission of the document, first attempt first."""
    return await document_service.list_submissions(session, ctx, document_id)


@router.get(
    "/submissions/{submission_id}/receipt",
    response_model=SubmissionReceipt,
    operation_id="submissions:receipt",
    responses=error_responses(),
)
async def get_receipt(submission_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession) -> JSONResponse:
    """The submission receipt (id, time, content hash, ...) as a downloadable JSON file."""
    receipt = await document_service.receipt(session, ctx, submission_id)
    return JSONResponse(
        receipt.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="submission-receipt-{receipt.submission_id}.json"'},
    )


@router.get(
    "/assignments/{assignment_id}/submissions",
    response_model=list[SubmissionRow],
    operation_id="assignments:submissions",
    responses=error_responses(403),
)
async def list_assignment_submissions(
    assignment_id: uuid.UUID, ctx: auth.WritingRead, session: ReadSession
) -> Response:
    """Staff: every student (or group) with status (not_started, in_progress, submitted, late, graded: the latest
    submission's grade was returned), words and last activity. Words and last activity may be up to
    ``SUBMISSION_LIST_REUSE_SECONDS`` (2 s) old: the list is shared by the course's staff for that long."""
    body = await document_service.assignment_overview_json(session, ctx, assignment_id)
    return Response(body, media_type="application/json")
