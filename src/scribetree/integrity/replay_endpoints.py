"""JSON API of replay, the tamper-evident event-log export and the printable submission report.

Who may call: the document's author (or group) and the staff of its course; everyone else gets 404, as for a
missing document. Staff reads are written to the audit trail (``document.viewed``). Formats and thresholds are
documented in docs/integrity.md.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession, error_responses
from scribetree.integrity.export import Identify
from scribetree.integrity.export import export as export_service
from scribetree.integrity.pdf import report as report_service
from scribetree.integrity.replay import DEFAULT_GAP_MINUTES, MAX_PAGE, PAGE_SIZE
from scribetree.integrity.replay import replay as replay_service
from scribetree.integrity.replay_schemas import ReplayBatchPage, ReplayManifest, ReplayState
from scribetree.tenancy.auth import TenantSigned

router = APIRouter(route_class=UnitOfWorkRoute, tags=["integrity"])
IntegrityRead = TenantSigned
SPOOL_BYTES = 1 << 20  # an export larger than this is spooled to a temporary file, not kept in memory


@router.get(
    "/documents/{document_id}/replay",
    response_model=ReplayManifest,
    operation_id="replay:manifest",
    responses=error_responses(422),
)
async def get_replay_manifest(
    document_id: uuid.UUID,
    ctx: IntegrityRead,
    session: ReadSession,
    audit_session: WriteSession,
    gap_minutes: Annotated[int, Query(description="A pause longer than this many minutes is a gap marker.")] = (
        DEFAULT_GAP_MINUTES
    ),
) -> ReplayManifest:
    """The replay timeline: revision and time range, batch counts and pages, and markers (pastes with size and
    time, gaps, writing sessions, submissions, restores). 422 ``InvalidReplayQuery`` for a bad ``gap_minutes``."""
    return await replay_service.manifest(
        session, ctx, document_id, gap_minutes=gap_minutes, audit_session=audit_session
    )


@router.get(
    "/documents/{document_id}/replay/state",
    response_model=ReplayState,
    operation_id="replay:state",
    responses=error_responses(422),
)
async def get_replay_state(
    document_id: uuid.UUID,
    ctx: IntegrityRead,
    session: ReadSession,
    audit_session: WriteSession,
    revision: Annotated[int, Query(ge=0, le=2**31 - 1, description="The revision whose text to rebuild.")] = 0,
) -> ReplayState:
    """The text at ``revision`` (nearest snapshot plus the batches after it) and its SHA-256.
    422 ``RevisionOutOfRange`` past the document's current revision."""
    return await replay_service.state(session, ctx, document_id, revision, audit_session=audit_session)


@router.get(
    "/documents/{document_id}/replay/batches",
    response_model=ReplayBatchPage,
    operation_id="replay:batches",
    responses=error_responses(422),
)
async def list_replay_batches(
    document_id: uuid.UUID,
    ctx: IntegrityRead,
    session: ReadSession,
    audit_session: WriteSession,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Batches after this revision.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="At most this many revisions.")] = PAGE_SIZE,
) -> ReplayBatchPage:
    """The text-changing batches that made revisions ``after + 1 .. after + limit``, each with its time, ops and
    the content hash of the text after it. A revision made by a restore has no batch: fetch its state."""
    return await replay_service.batches(session, ctx, document_id, after, limit, audit_session=audit_session)


def _chunks(spool: tempfile.SpooledTemporaryFile[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while piece := spool.read(size):
            yield piece
    finally:
        spool.close()


@router.get(
    "/documents/{document_id}/events/export",
    operation_id="events:export",
    responses={**error_responses(422), 200: {"content": {"application/x-ndjson": {}}}},
    response_class=StreamingResponse,
)
async def export_events(
    document_id: uuid.UUID,
    ctx: IntegrityRead,
    session: ReadSession,
    audit_session: WriteSession,
    identify: Annotated[Identify, Query(description="'pseudonym' (default) or 'name' for the writer.")] = "pseudonym",
) -> Response:
    """The raw event log as JSON Lines: a header, one hash-chained line per batch (and per restore), and an end
    line with the count, the chain head and the server's HMAC. Verify with ``scribetree integrity verify-export``.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115 (closed by _chunks)
    try:
        text_out = _TextSink(spool)
        name = await export_service.write(
            session, ctx, document_id, text_out, identify=identify, audit_session=audit_session
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return StreamingResponse(
        _chunks(spool),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


class _TextSink:
    """``write(str)`` onto a binary spool, as UTF-8."""

    def __init__(self, spool: tempfile.SpooledTemporaryFile[bytes]) -> None:
        self.spool = spool

    def write(self, text: str) -> int:
        return self.spool.write(text.encode("utf-8"))


@router.get(
    "/submissions/{submission_id}/report",
    operation_id="reports:get",
    responses={**error_responses(), 200: {"content": {"application/pdf": {}, "text/html": {}}}},
    response_class=Response,
)
async def get_submission_report(
    submission_id: uuid.UUID,
    ctx: IntegrityRead,
    session: ReadSession,
    audit_session: WriteSession,
    format: Annotated[Literal["pdf", "html"], Query(description="'pdf' (default) or print-styled 'html'.")] = "pdf",
) -> Response:
    """The printable report of a submission: the integrity report (composition, process figures, flags with the
    student's responses, outcomes for staff, similarity when computed), the AI-use statement and the submitted text
    with pasted passages highlighted. For the submission's author and the course's staff (audited)."""
    data = await report_service.gather(session, ctx, submission_id, write=audit_session)
    headers = {"Cache-Control": "no-store"}
    if format == "html":
        return Response(report_service.html(data), media_type="text/html; charset=utf-8", headers=headers)
    name = f"report-{submission_id}.pdf"
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(await report_service.pdf(data), media_type="application/pdf", headers=headers)
