"""Operations: health and readiness, Prometheus metrics, the job queue's operator view (later: SLOs,
status page, incidents, backups, capacity). Reads across tenants only to count, never to show content.
"""
