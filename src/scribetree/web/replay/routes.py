"""The replay page (``/documents/{id}/replay``): for the document's author (or group), the course's staff and
admins; everyone else gets 404, as for a missing document.

Adapters only. The page carries no student text: ``static/js/replay.js`` fetches the manifest, a state and windows
of batches from the replay API, whose reads by staff are audited (``integrity.replay``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from scribetree.core.http import ReadSession, UnitOfWorkRoute
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.identity.service import identity
from scribetree.integrity.replay import DEFAULT_GAP_MINUTES
from scribetree.tenancy.auth import TenantSigned
from scribetree.web.pages import parse_id, render
from scribetree.writing.service import document as document_service

router = APIRouter(route_class=UnitOfWorkRoute)


@router.get("/documents/{document_id}/replay", include_in_schema=False)
async def replay_page(request: Request, document_id: str, ctx: TenantSigned, session: ReadSession) -> Response:
    doc = await document_service.read(session, ctx, parse_id(document_id))
    a = await assignment_service.get(session, ctx, doc.assignment_id)
    course = await course_service.get_course(session, ctx, a.course_id)
    if doc.owner_user_id is not None:
        owner = (await identity.users_by_ids(session, [doc.owner_user_id])).get(doc.owner_user_id)
        writer = owner.display_name if owner else "A former student"
    else:
        writer = "The group"
    subs = await document_service.list_submissions(session, ctx, doc.id)
    data = {
        "documentId": str(doc.id),
        "api": "/api/v1",
        "revisionTo": doc.revision,
        "contentHash": doc.content_hash,
        "gapMinutes": DEFAULT_GAP_MINUTES,
    }
    return await render(
        request,
        "replay/replay.html",
        session=session,
        title=f"Replay: {a.title}",
        a=a,
        course=course,
        doc=doc,
        writer=writer,
        own=doc.owner_user_id == ctx.user_id,
        submissions=subs,
        replay_data=data,
    )
