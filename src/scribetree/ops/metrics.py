"""Prometheus metrics: requests by route template, latency histograms, job queue depth, DB pool use.

The registry and the metrics only: services set gauges here without knowing HTTP; the middleware that
counts requests is in ``ops.middleware``. Counters live in this process. With several server processes on
one host, set PROMETHEUS_MULTIPROC_DIR (prometheus-client multiprocess mode) or scrape each process; see
docs/operations.md.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scribetree.core import gcpolicy, pubsub

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
GC_COLLECTIONS = Gauge(
    "scribetree_gc_collections",
    "Garbage collections since start (core.gcpolicy.stats)",
    ["generation"],
    registry=registry,
)
GC_SECONDS = Gauge(
    "scribetree_gc_pause_seconds",
    "Seconds this process stood still in garbage collections since start: everything else waits meanwhile",
    ["generation"],
    registry=registry,
)
GC_LONGEST = Gauge(
    "scribetree_gc_longest_pause_seconds",
    "The longest garbage collection since start",
    ["generation"],
    registry=registry,
)
GC_FROZEN = Gauge(
    "scribetree_gc_frozen_objects", "Start-up objects no garbage collection walks (core.gcpolicy)", registry=registry
)


def render() -> tuple[bytes, str]:
    for name, value in vars(pubsub.stats).items():
        PUBSUB.labels(name).set(value)
    PUBSUB_SUBSCRIBERS.set(pubsub.subscriber_count())
    for generation in range(3):
        GC_COLLECTIONS.labels(str(generation)).set(gcpolicy.stats.collections[generation])
        GC_SECONDS.labels(str(generation)).set(gcpolicy.stats.seconds[generation])
        GC_LONGEST.labels(str(generation)).set(gcpolicy.stats.longest[generation])
    GC_FROZEN.set(gcpolicy.stats.frozen)
    return generate_latest(registry), CONTENT_TYPE_LATEST
