"""create_app(): middleware, routers, error handlers and the in-process worker. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from scribetree import __version__
from scribetree.ai_partner.endpoints import router as ai_partner_router
from scribetree.alerts.endpoints import router as alerts_router
from scribetree.alerts.interventions_endpoints import router as interventions_router
from scribetree.analytics.endpoints import router as analytics_router
from scribetree.compliance.endpoints import router as audit_router
from scribetree.core import gcpolicy, http, pacing, pubsub
from scribetree.core.config import settings
from scribetree.core.db import dispose_engines
from scribetree.core.errors import ScribetreeError
from scribetree.core.logging import configure_logging
from scribetree.courses.endpoints import router as courses_router
from scribetree.integrity.endpoints import router as integrity_router
from scribetree.integrity.replay_endpoints import router as replay_router
from scribetree.integrity.similarity_endpoints import router as similarity_router
from scribetree.mcp.http import discovery as mcp_discovery
from scribetree.mcp.http import http_app as mcp_http_app
from scribetree.mcp.lazy import LazyMCP
from scribetree.ops.endpoints import probes
from scribetree.ops.endpoints import router as ops_router
from scribetree.ops.middleware import MetricsMiddleware
from scribetree.tenancy.endpoints import router as tenancy_router
from scribetree.web import STATIC_DIR, render_error
from scribetree.web import router as web_router
from scribetree.writing.batch_lane import BatchLane
from scribetree.writing.endpoints import router as writing_router
from scribetree.writing.feedback_endpoints import router as feedback_router

log = logging.getLogger("scribetree")
JSON_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/mcp", "/scim")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    stop = asyncio.Event()
    worker_task = None
    if settings.WORKER_IN_PROCESS:
        import scribetree.tasks  # noqa: F401  (registers every actor)
        from scribetree.core.jobs import Worker

        pacing.enable()  # its jobs yield the loop to requests (core/pacing.py)
        worker_task = asyncio.create_task(Worker().run(stop), name="in-process-worker")
    gcpolicy.watch()
    gcpolicy.after_startup()  # `serve`: freeze what start-up left alive (core/gcpolicy.py)
    try:
        async with app.state.mcp.running():  # the MCP server, built on the first /mcp request (mcp/lazy.py)
            yield
    finally:
        stop.set()
        if worker_task is not None:
            # Running jobs get 30 s to finish; after that they are cancelled and their leases expire,
            # so another worker runs them again.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(worker_task, timeout=30)
        pacing.enable(False)
        await pubsub.reset()  # close this process's Redis connections (live pushes)
        await dispose_engines()


def create_app() -> FastAPI:
    import scribetree.tasks  # noqa: F401  (registers every job actor and schedule)

    configure_logging()
    app = FastAPI(
        title="Scribe Tree API",
        version=__version__,
        description="Everything the Scribe Tree pages can do. Authenticate with a personal API token "
        "(`Authorization: Bearer st_...`) or the session cookie plus `X-CSRF-Token`.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.add_middleware(BatchLane)  # innermost of ours: the editor's batch route without the framework's machinery
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(http.SecurityMiddleware)  # outermost: request id, size limit, headers

    app.include_router(probes)
    app.include_router(tenancy_router, prefix="/api/v1")
    app.include_router(courses_router, prefix="/api/v1")
    app.include_router(writing_router, prefix="/api/v1")
    app.include_router(feedback_router, prefix="/api/v1")
    app.include_router(ai_partner_router, prefix="/api/v1")
    app.include_router(alerts_router, prefix="/api/v1")
    app.include_router(interventions_router, prefix="/api/v1")
    app.include_router(replay_router, prefix="/api/v1")
    app.include_router(integrity_router, prefix="/api/v1")
    app.include_router(similarity_router, prefix="/api/v1")
    app.include_router(analytics_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(ops_router, prefix="/api/v1")
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.mcp = LazyMCP()
    app.include_router(mcp_discovery)
    app.mount("/mcp", mcp_http_app(app.state.mcp))

    @app.exception_handler(ScribetreeError)
    async def on_domain_error(request: Request, exc: ScribetreeError):
        if wants_json(request):
            return http.scribetree_error_response(exc)
        return await render_error(request, exc.status_code, exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        if wants_json(request):
            return http.validation_error_response(exc)
        return await render_error(request, 422, "ValidationError", "Some of the values are not valid.")

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        if wants_json(request):
            return http.http_error_response(exc)
        return await render_error(request, exc.status_code, "HTTPError", str(exc.detail))

    @app.exception_handler(Exception)
    async def on_bug(request: Request, exc: Exception):
        log.exception("unhandled error", extra={"path": request.url.path})
        if wants_json(request):
            return http.internal_error_response()
        return await render_error(request, 500, "InternalError", "Something went wrong on our side.")

    return app
