"""Prometheus metrics: requests by route template, latency histograms, job queue depth, DB pool use.

Counters live in this process. With several server processes on one host, set PROMETHEUS_MULTIPROC_DIR
(prometheus-client multiprocess mode) or scrape each process; see docs/operations.md.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scribetree.core.http import route_template

registry = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("scribetree_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=registry)
LATENCY = Histogram(
    "scribetree_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=registry,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0),
)
JOBS = Gauge("scribetree_jobs", "Jobs by state", ["state"], registry=registry)
JOB_OLDEST = Gauge("scribetree_jobs_oldest_queued_seconds", "Age of the oldest due queued job", registry=registry)
WORKERS = Gauge("scribetree_workers_live", "Workers with a recent heartbeat", registry=registry)
POOL = Gauge("scribetree_db_pool_connections", "Database pool connections", ["engine", "kind"], registry=registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # Route templates, never raw paths: ids in paths would make unbounded label sets.
            template = route_template(scope) or ("static" if scope["path"].startswith("/static") else "unmatched")
            REQUESTS.labels(scope["method"], template, str(status["code"])).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)


def render() -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST
