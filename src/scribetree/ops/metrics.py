"""Prometheus metrics: requests by route template, latency histograms, job queue depth, DB pool use.

The registry and the metrics only: services set gauges here without knowing HTTP; the middleware that
counts requests is in ``ops.middleware``. Counters live in this process. With several server processes on
one host, set PROMETHEUS_MULTIPROC_DIR (prometheus-client multiprocess mode) or scrape each process; see
docs/operations.md.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scribetree.core import pubsub

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
PUBSUB = Gauge(
    "scribetree_pubsub_events",
    "Live pub/sub counters of this process since start (core.pubsub.stats): published, publish_failures, "
    "delivered, dropped (slow subscribers lost their oldest), reconnects (Redis subscriber connection)",
    ["event"],
    registry=registry,
)
PUBSUB_SUBSCRIBERS = Gauge("scribetree_pubsub_subscribers", "Live subscriptions in this process", registry=registry)


def render() -> tuple[bytes, str]:
    for name, value in vars(pubsub.stats).items():
        PUBSUB.labels(name).set(value)
    PUBSUB_SUBSCRIBERS.set(pubsub.subscriber_count())
    return generate_latest(registry), CONTENT_TYPE_LATEST
