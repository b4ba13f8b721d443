"""The similarity page (``/submissions/{id}/similarity``): overlapping passages side by side, rendered on the
server from ``integrity.similarity.similarity_summary`` (the same rules as the API: the author sees only their own
side, staff the other side only where they teach; a staff member's view is audited). Everyone who may not read the
submission gets 404. While the submission is still being indexed, ``static/js/similarity.js`` polls the API and
reloads the page when the comparison is ready.

``/admin/similarity`` (institution admins) turns comparison across the institution's courses on or off.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from scribetree.core.errors import InvalidInput
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.integrity.similarity import get_settings, put_settings, similarity_summary
from scribetree.integrity.similarity_schemas import SimilaritySettingsUpdate
from scribetree.tenancy.auth import TenantSettingsWrite, TenantSigned
from scribetree.tenancy.permissions import Permission
from scribetree.web.pages import parse_id, redirect, render
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
        can_change_consent=ctx.can(Permission.tenant_settings_write),
        poll={"api": f"/api/v1/submissions/{report.submission_id}/similarity", "state": report.state},
    )


# ---- the institution's consent (admins) -----------------------------------------------------------------------


@router.get("/admin/similarity", include_in_schema=False)
async def similarity_settings_page(request: Request, ctx: TenantSettingsWrite, session: ReadSession) -> Response:
    saved = await get_settings(session, ctx)
    return await render(request, "similarity/settings.html", session=session, title="Similarity", saved=saved)


@router.post("/admin/similarity", include_in_schema=False)
async def save_similarity_settings(
    ctx: TenantSettingsWrite, session: WriteSession, cross_course: Annotated[str, Form()] = ""
) -> Response:
    """A checkbox: ``on`` when ticked, absent when not; any other value is refused with the form unchanged."""
    if cross_course not in ("", "on"):
        raise InvalidInput("The setting is a checkbox: send cross_course=on to allow, or leave it out to refuse.")
    saved = await put_settings(session, ctx, SimilaritySettingsUpdate(cross_course=cross_course == "on"))
    if saved.cross_course:
        return redirect("/admin/similarity", "Submissions are now compared across the institution's courses.")
    return redirect("/admin/similarity", "Submissions are now compared within their course only.")
