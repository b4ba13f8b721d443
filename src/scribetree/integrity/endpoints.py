"""JSON API of the process evidence report: per submission, per assignment, the student's responses to flags
and the educator's outcomes (``docs/integrity.md``).

Student text (the document, responses, notes) is plain text: show it with ``textContent``, never as HTML.
Offsets in the evidence (pastes, highlights) are Unicode code points of ``text``.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, status

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses
from scribetree.integrity import auth
from scribetree.integrity.models import IntegrityOutcome, IntegrityResponse
from scribetree.integrity.schemas import (
    AssignmentIntegrityRow,
    IntegrityReportRead,
    OutcomeCreate,
    OutcomeRead,
    ResponseCreate,
    ResponseRead,
    SettingsRead,
    SettingsUpdate,
)
from scribetree.integrity.service import integrity as integrity_service

router = APIRouter(route_class=UnitOfWorkRoute, tags=["integrity"])


@router.get(
    "/submissions/{submission_id}/integrity",
    response_model=IntegrityReportRead,
    operation_id="integrity:report",
    responses=error_responses(),
)
async def get_integrity_report(
    submission_id: uuid.UUID, ctx: auth.IntegrityRead, session: ReadSession, write: WriteSession
) -> IntegrityReportRead:
    """The process evidence report of a submission: composition (typed, assistive input, pasted from outside,
    moved, undo/redo) with every paste's place in the text, process figures, flags with their thresholds,
    evidence and what would clear them, and the student's responses. Staff also get outcomes and comparisons
    with the student's own history and the class. For the submission's student and the course's staff
    (404 for anyone else). Every view is audited."""
    return await integrity_service.report(session, ctx, submission_id, write=write)


@router.get(
    "/documents/{document_id}/integrity",
    response_model=IntegrityReportRead,
    operation_id="integrity:draft_report",
    responses=error_responses(403),
)
async def get_draft_integrity_report(
    document_id: uuid.UUID, ctx: auth.IntegrityRead, session: ReadSession, write: WriteSession
) -> IntegrityReportRead:
    """The report of a document's current text before submission: staff always; the student only when the
    assignment's ``students_see_before_submission`` is on (403 ``ReportNotYetVisible`` otherwise). Audited."""
    return await integrity_service.draft_report(session, ctx, document_id, write=write)


@router.post(
    "/submissions/{submission_id}/integrity/responses",
    response_model=ResponseRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="integrity:respond",
    responses=error_responses(403, 422),
)
async def create_integrity_response(
    submission_id: uuid.UUID, data: ResponseCreate, ctx: auth.IntegrityWrite, session: WriteSession
) -> IntegrityResponse:
    """The student's response to a flag (``flag_code`` of a raised flag, or ``report`` for the whole report),
    up to 4,000 characters of plain text. Kept with the report and its export; staff get 403 ``AuthorOnly``,
    an unknown flag 422 ``UnknownFlag``."""
    return await integrity_service.respond(session, ctx, submission_id, data)


@router.post(
    "/submissions/{submission_id}/integrity/outcomes",
    response_model=OutcomeRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="integrity:outcome",
    responses=error_responses(403, 422),
)
async def create_integrity_outcome(
    submission_id: uuid.UUID, data: OutcomeCreate, ctx: auth.IntegrityWrite, session: WriteSession
) -> IntegrityOutcome:
    """Staff record an outcome: ``no_concern``, ``discussed`` (with the student) or ``referred``, with a note.
    The latest outcome is the current one; earlier ones stay. Students get 403 ``StaffOnly``."""
    return await integrity_service.record_outcome(session, ctx, submission_id, data)


@router.get(
    "/assignments/{assignment_id}/integrity",
    response_model=list[AssignmentIntegrityRow],
    operation_id="integrity:assignment",
    responses=error_responses(403, 422),
)
async def list_assignment_integrity(
    assignment_id: uuid.UUID,
    ctx: auth.IntegrityRead,
    session: ReadSession,
    write: WriteSession,
    sort: str = Query("flags", description="name, flags, words, typed_share, external_paste_share, ..."),
    order: Literal["asc", "desc"] = "desc",
) -> list[AssignmentIntegrityRow]:
    """Staff: the latest submission of each student (or group) with its flags and key process figures,
    sorted by ``sort`` (default: most flags first). Audited."""
    return await integrity_service.assignment_table(
        session, ctx, assignment_id, write=write, sort=sort, descending=order == "desc"
    )


@router.get(
    "/assignments/{assignment_id}/integrity/settings",
    response_model=SettingsRead,
    operation_id="integrity:settings_get",
    responses=error_responses(),
)
async def get_integrity_settings(
    assignment_id: uuid.UUID, ctx: auth.IntegrityRead, session: ReadSession
) -> SettingsRead:
    """Whether students may see their own process report before they submit."""
    return await integrity_service.get_settings(session, ctx, assignment_id)


@router.put(
    "/assignments/{assignment_id}/integrity/settings",
    response_model=SettingsRead,
    operation_id="integrity:settings_put",
    responses=error_responses(403, 422),
)
async def put_integrity_settings(
    assignment_id: uuid.UUID, data: SettingsUpdate, ctx: auth.IntegrityWrite, session: WriteSession
) -> SettingsRead:
    """Staff: let students see their own process report before submitting (audited)."""
    return await integrity_service.update_settings(session, ctx, assignment_id, data)
