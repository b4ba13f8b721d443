"""JSON API: the institution's audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from scribetree.compliance.schemas import AuditPage, ChainVerification
from scribetree.compliance.service import audit_service
from scribetree.core.errors import ErrorBody
from scribetree.core.http import ReadSession, UnitOfWorkRoute
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
