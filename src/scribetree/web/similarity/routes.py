"""The similarity page (``/submissions/{id}/similarity``): overlapping passages side by side, rendered on the
server from ``integrity.similarity.similarity_summary`` (the same rules as the API: the author sees only their own
side, staff the other side only where they teach; a staff member's view is audited). Everyone who may not read the
submission gets 404. While the submission is still being indexed, ``static/js/similarity.js`` polls the API and
reloads the page when the comparison is ready.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.integrity.similarity import similarity_summary
from scribetree.tenancy.auth import TenantSigned
from scribetree.web.pages import parse_id, render
from scribetree.writing.service import document as document_service

router = APIRouter(route_class=UnitOfWorkRoute)

SCOPE_LABELS = {
    "assignment": "same assignment",
    "course": "another assignment of this course",
    "institution": "another course of the institution",
}


@router.get("/submissions/{submission_id}/similarity", include_in_schema=False)
async def similarity_page(
    request: Request, submission_id: str, ctx: TenantSigned, session: ReadSession, audit_session: WriteSession
) -> Response:
    report = await similarity_summary(session, ctx, parse_id(submission_id), audit_session=audit_session)
    receipt = await document_service.receipt(session, ctx, report.submission_id)
    a = await assignment_service.get(session, ctx, receipt.assignment_id)
    course = await course_service.get_course(session, ctx, a.course_id)
    return await render(
        request,
        "similarity/similarity.html",
        session=session,
        title=f"Similarity: {a.title}",
        a=a,
        course=course,
        receipt=receipt,
        report=report,
        scope_labels=SCOPE_LABELS,
        poll={"api": f"/api/v1/submissions/{report.submission_id}/similarity", "state": report.state},
    )
