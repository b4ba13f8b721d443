"""Tables of the durable job queue (see ``core.jobs``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scribetree.core.db import Base, UTCDateTime
from scribetree.core.ids import uuid7


class JobState(StrEnum):
    queued = "queued"  # waiting for run_at
    running = "running"  # leased by a worker until lease_expires_at
    succeeded = "succeeded"
    dead = "dead"  # out of attempts (or a permanent error); operators can replay it


class Job(Base):
    """Global table: ``tenant_id`` is the tenant the job works for, NULL for platform jobs."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "queue", "run_at"),
        Index("ix_jobs_lease", "state", "lease_expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    queue: Mapped[str] = mapped_column(String(40), default="default")
    actor: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    state: Mapped[JobState] = mapped_column(String(20), default=JobState.queued)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower runs first
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JobSchedule(Base):
    """Next due time of each periodic job; workers advance it with compare-and-set."""

    __tablename__ = "job_schedules"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
