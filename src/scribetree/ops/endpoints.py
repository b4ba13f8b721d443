"""Health, readiness, metrics, and the operators' job-queue API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from scribetree.core.errors import ErrorBody
from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.core.jobs_models import JobState
from scribetree.ops import metrics
from scribetree.ops.service import ops
from scribetree.tenancy import auth

probes = APIRouter(route_class=UnitOfWorkRoute, tags=["operations"])
router = APIRouter(route_class=UnitOfWorkRoute, tags=["platform"])
ERR = {401: {"model": ErrorBody}, 403: {"model": ErrorBody}}


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    queue: str
    actor: str
    tenant_id: uuid.UUID | None
    state: str
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


@probes.get("/healthz", operation_id="ops:health")
async def healthz() -> dict[str, str]:
    """The process is alive (liveness probe). Checks nothing else on purpose."""
    return {"status": "ok"}


@probes.get("/readyz", operation_id="ops:ready", responses={503: {"description": "Not ready, with the reasons"}})
async def readyz(session: ReadSession) -> JSONResponse:
    """Ready for traffic: database reachable, migrations current, a worker's heartbeat recent."""
    ok, checks = await ops.readiness(session)
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)


@probes.get("/metrics", operation_id="ops:metrics", response_class=Response)
async def prometheus_metrics(session: ReadSession) -> Response:
    """Prometheus exposition format. Restrict it to the monitoring network at the proxy."""
    await ops.refresh_gauges(session)
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get("/platform/jobs/stats", operation_id="platform_jobs:stats", responses=ERR)
async def job_stats(ctx: auth.JobsManage, session: ReadSession) -> dict[str, Any]:
    """Queue depth per state and queue, the oldest waiting job, dead jobs and live workers (operators)."""
    return await ops.queue_stats(session, ctx)


@router.get("/platform/jobs", response_model=list[JobRead], operation_id="platform_jobs:list", responses=ERR)
async def list_jobs(
    ctx: auth.JobsManage,
    session: ReadSession,
    state: JobState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list:
    """Recent jobs, optionally by state (e.g. ``dead``) (operators)."""
    return await ops.list_jobs(session, ctx, state, limit)


@router.post(
    "/platform/jobs/{job_id}/replay",
    response_model=JobRead,
    operation_id="platform_jobs:replay",
    responses={**ERR, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
async def replay_job(job_id: uuid.UUID, ctx: auth.JobsManage, session: WriteSession) -> object:
    """Queue a dead job again with a fresh set of attempts (operators)."""
    return await ops.replay(session, ctx, job_id)
