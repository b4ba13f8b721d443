"""JSON API: the institution's audit trail and its research consent."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from scribetree.compliance.research import ResearchSettingsRead, ResearchSettingsUpdate, research
from scribetree.compliance.schemas import AuditPage, ChainVerification
from scribetree.compliance.service import audit_service
from scribetree.core.errors import ErrorBody
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.tenancy import auth

router = APIRouter(route_class=UnitOfWorkRoute, tags=["audit"])
ERR = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}}


@router.get("/audit", response_model=AuditPage, operation_id="audit:list", responses=ERR)
async def list_audit_events(
    ctx: auth.AuditRead,
    session: ReadSession,
    action: Annotated[str | None, Query(max_length=80, description="Prefix, e.g. 'auth.' or 'member.'")] = None,
    actor: Annotated[str | None, Query(max_length=320, description="Part of the actor's email")] = None,
    outcome: Literal["success", "failure", "denied"] | None = None,
    # Aware times only: a naive one cannot be compared with the stored UTC column (it was a 500).
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    before_seq: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    """Your institution's audit trail, newest first. Page with ``before_seq=next_before_seq``."""
    return await audit_service.search(
        session,
        ctx,
        action=action,
        actor=actor,
        outcome=outcome,
        since=since,
        until=until,
        before_seq=before_seq,
        limit=limit,
    )


@router.get("/audit/verify", response_model=ChainVerification, operation_id="audit:verify", responses=ERR)
async def verify_audit_chain(ctx: auth.AuditRead, session: ReadSession) -> ChainVerification:
    """Recompute your institution's hash chain and report the first altered or missing entry, if any."""
    return await audit_service.verify_tenant(session, ctx)


@router.get(
    "/research-settings",
    response_model=ResearchSettingsRead,
    operation_id="research:settings:get",
    responses=ERR,
    tags=["research"],
)
async def get_research_settings(ctx: auth.AuditRead, session: ReadSession) -> ResearchSettingsRead:
    """Institution admins: whether the institution consents to research use of its data, and k_min."""
    return await research.get_settings(session, ctx)


@router.put(
    "/research-settings",
    response_model=ResearchSettingsRead,
    operation_id="research:settings:put",
    responses={**ERR, 422: {"model": ErrorBody}},
    tags=["research"],
)
async def put_research_settings(
    body: ResearchSettingsUpdate, ctx: auth.TenantSettingsWrite, session: WriteSession
) -> ResearchSettingsRead:
    """Institution admins: turn research consent on or off and set k_min (2-100, groups with fewer students are
    suppressed). Audited as ``research.settings_updated``."""
    return await research.update_settings(session, ctx, body)
