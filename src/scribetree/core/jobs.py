"""The durable job queue: jobs are rows, written in the caller's transaction (ARCHITECTURE §5, STYLE T4/T5).

Why a table and not a broker: a job row commits or rolls back with the change that caused it, so there is
no dual write and no lost or phantom side effect. This is the design of Oban (Elixir), Rails' Solid Queue
and Canvas's job system.

- **Claiming.** On PostgreSQL a worker selects due rows ``FOR UPDATE SKIP LOCKED`` and marks them
  ``running`` with a lease in the same short transaction, so any number of workers on any number of hosts
  share the table without handing one job to two of them. On SQLite the write engine begins every
  transaction ``IMMEDIATE`` (one writer at a time), so a plain select-then-update is already exclusive.
- **Leases, not locks.** No transaction stays open while an actor runs. A claimed row carries
  ``lease_expires_at``; the worker renews it with its heartbeat. A row still ``running`` after its lease
  has passed belongs to a worker that died (SIGKILL, OOM, lost host), and is claimable again, like Oban's
  lifeline rescue and Solid Queue's release of a dead process's claims. Delivery is therefore
  at-least-once: actors must be idempotent (T5).
- **Exactly-once database effects.** The actor runs in its own unit of work, and the row is marked
  ``succeeded`` in *that* transaction, fenced on ``(locked_by, attempts)``. If a stalled worker lost its
  lease and another worker took the job, the stale worker's success update matches no row and its work
  rolls back. Effects outside the database (mail, LMS calls) can still repeat, hence idempotency keys and
  stable message ids.
- **Failures.** A failed attempt goes back to ``queued`` with exponential backoff (2 s · 2^(n-1), capped at
  one hour, ±20 % jitter so that a burst of failures does not retry in lock step). Out of attempts, a
  :class:`PermanentJobError`, or an actor this process does not know ends in ``dead``, where operators see
  it and can :func:`replay` it.
- **Periodic jobs.** Each schedule has one row; a worker advances ``next_run_at`` with a compare-and-set
  ``UPDATE ... WHERE next_run_at = <slot>`` and enqueues in the same transaction, keyed
  ``periodic:<name>:<slot>``, so several workers enqueue each slot once. Missed slots are not back-filled.
- **Latency.** ``enqueue`` registers an after-commit hook that wakes the workers of this process, so the
  embedded mode runs a job right after the request commits rather than at the next poll.

A job's ``tenant_id`` is stored on the row (for operators) and handed to the actor as ``tenant_id=<str>``;
actors of tenant work declare that parameter. The other keyword arguments must be JSON values (UUIDs are
turned into strings); ORM objects are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import random
import secrets
import signal
import socket
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db
from scribetree.core.config import settings
from scribetree.core.errors import Conflict, NotFound
from scribetree.core.ids import uuid7
from scribetree.core.jobs_models import Job, JobSchedule, JobState, WorkerHeartbeat
from scribetree.core.repository import dialect_insert

__all__ = [
    "ActorSpec",
    "ClaimedJob",
    "Job",
    "JobState",
    "JobTimeout",
    "PermanentJobError",
    "Worker",
    "actor",
    "current_job",
    "enqueue",
    "latest_heartbeat",
    "list_jobs",
    "periodic",
    "queue_stats",
    "replay",
    "retry_delay",
    "run_pending",
    "run_worker_forever",
]

log = logging.getLogger("scribetree.jobs")

ActorFn = Callable[..., Awaitable[None]]

BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 3600.0
BACKOFF_JITTER = 0.2
LAST_ERROR_MAX = 4000
HEARTBEAT_PRUNE_AFTER = timedelta(days=1)  # forget workers that have been silent this long
SCHEDULE_TICK_SECONDS = 1.0


class PermanentJobError(Exception):
    """Raise from an actor when retrying cannot help (the record is gone, the input is invalid)."""


class JobTimeout(Exception):
    """The actor ran longer than its ``timeout_seconds``; counts as a failed attempt."""


class _LeaseLost(Exception):
    """Another worker took the job after our lease expired; our attempt must not commit."""


# ---- registry -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorSpec:
    name: str
    fn: ActorFn
    queue: str
    max_attempts: int
    timeout_seconds: float


@dataclass(frozen=True)
class Schedule:
    name: str
    every: timedelta
    actor: str
    args: dict[str, Any]


_actors: dict[str, ActorSpec] = {}
_schedules: dict[str, Schedule] = {}


def actor(
    name: str, *, queue: str = "default", max_attempts: int = 8, timeout_seconds: float = 300
) -> Callable[[ActorFn], ActorFn]:
    """Register ``async def fn(session, **args)`` as the handler of jobs named ``name``."""
    if max_attempts < 1 or timeout_seconds <= 0:
        raise ValueError("max_attempts must be >= 1 and timeout_seconds > 0")

    def register(fn: ActorFn) -> ActorFn:
        existing = _actors.get(name)
        if existing is not None and _qualname(existing.fn) != _qualname(fn):
            raise ValueError(f"actor {name!r} is already registered by {_qualname(existing.fn)}")
        _actors[name] = ActorSpec(name, fn, queue, max_attempts, timeout_seconds)
        return fn

    return register


def periodic(name: str, *, every: timedelta, actor: str, args: dict[str, Any] | None = None) -> None:
    """Enqueue ``actor`` once per ``every`` across all workers (first slot: as soon as a worker runs)."""
    if every <= timedelta(0):
        raise ValueError("every must be positive")
    _schedules[name] = Schedule(name, every, actor, _json_args(args or {}))


def _qualname(fn: ActorFn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _json_args(args: dict[str, Any]) -> dict[str, Any]:
    """What the actor receives is exactly what is stored: JSON values, UUIDs as strings (T5)."""

    def encode(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        raise TypeError(
            f"job argument of type {type(value).__name__} is not a JSON value; pass ids, not objects (STYLE T5)"
        )

    return json.loads(json.dumps(args, default=encode))


# ---- enqueue ------------------------------------------------------------------------------------------

_wakeups: set[asyncio.Event] = set()


async def _wake_workers() -> None:
    for event in list(_wakeups):
        event.set()


async def enqueue(
    session: AsyncSession,
    actor: str,
    *,
    tenant_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    run_at: datetime | None = None,
    priority: int = 100,
    max_attempts: int | None = None,
    **args: Any,
) -> Job | None:
    """Add a job to the caller's transaction; it exists once the caller commits.

    With an ``idempotency_key`` that some job already holds, nothing is inserted and ``None`` comes back;
    the caller's transaction is unharmed (``INSERT ... ON CONFLICT DO NOTHING``, on both dialects).
    Queue and default ``max_attempts`` come from the actor's registration when this process knows it.
    """
    spec = _actors.get(actor)
    now = clock.utcnow()
    values = {
        "id": uuid7(),
        "queue": spec.queue if spec else "default",
        "actor": actor,
        "args": _json_args(args),
        "tenant_id": tenant_id,
        "state": JobState.queued,
        "priority": priority,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts or (spec.max_attempts if spec else 8),
        "idempotency_key": idempotency_key,
        "created_at": now,
    }
    stmt = dialect_insert(session)(Job).values(**values)
    if idempotency_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=[Job.idempotency_key])
    job = (await session.scalars(stmt.returning(Job))).one_or_none()
    if job is not None and _wake_workers not in session.info.get("after_commit", []):
        db.after_commit(session, _wake_workers)
    return job


# ---- operator functions -------------------------------------------------------------------------------


async def queue_stats(session: AsyncSession) -> dict[str, Any]:
    """Counts per state and per queue, backlog latency and worker liveness, for the ops page and metrics.

    ``oldest_queued_age_seconds`` measures how long the oldest *due* job has waited past its ``run_at``
    (jobs scheduled for later are not a backlog). A worker is stale when its last heartbeat is older than
    ``WORKER_HEARTBEAT_STALE_SECONDS``.
    """
    now = clock.utcnow()
    by_state = {s.value: 0 for s in JobState}
    by_queue: dict[str, dict[str, int]] = {}
    rows = await session.execute(select(Job.queue, Job.state, func.count()).group_by(Job.queue, Job.state))
    for queue, state, count in rows:
        by_state[state] = by_state.get(state, 0) + count
        by_queue.setdefault(queue, {s.value: 0 for s in JobState})[state] = count
    due_filter = and_(Job.state == JobState.queued, Job.run_at <= now)
    due, oldest = (await session.execute(select(func.count(), func.min(Job.run_at)).where(due_filter))).one()
    stale_before = now - timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    beats = await session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.worker_id))
    workers = [
        {
            "worker_id": b.worker_id,
            "hostname": b.hostname,
            "pid": b.pid,
            "started_at": b.started_at,
            "last_seen_at": b.last_seen_at,
            "jobs_done": b.jobs_done,
            "stale": b.last_seen_at < stale_before,
        }
        for b in beats
    ]
    return {
        "generated_at": now,
        "by_state": by_state,
        "by_queue": by_queue,
        "due": due,
        "oldest_queued_age_seconds": (now - clock.as_utc(oldest)).total_seconds() if oldest else None,
        "dead": by_state[JobState.dead],
        "workers": workers,
    }


async def list_jobs(
    session: AsyncSession, *, state: JobState | None = None, limit: int = 50, before_id: uuid.UUID | None = None
) -> list[Job]:
    """Newest first; pass the last id of a page as ``before_id`` for the next (ids are time-ordered)."""
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(Job.state == state)
    if before_id is not None:
        stmt = stmt.where(Job.id < before_id)
    return list((await session.scalars(stmt)).all())


async def replay(session: AsyncSession, job_id: uuid.UUID | str) -> Job:
    """Send a dead job back to the queue with fresh attempts, in the caller's transaction."""
    try:
        job_uuid = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        raise NotFound("No job has this id.") from None
    stmt = select(Job).where(Job.id == job_uuid)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    job = (await session.scalars(stmt)).one_or_none()
    if job is None:
        raise NotFound("No job has this id.")
    if job.state != JobState.dead:
        raise Conflict(f"Only dead jobs can be replayed; this one is {job.state}.")
    job.state = JobState.queued
    job.attempts = 0
    job.run_at = clock.utcnow()
    job.finished_at = None
    job.lease_expires_at = None
    await session.flush()
    if _wake_workers not in session.info.get("after_commit", []):
        db.after_commit(session, _wake_workers)
    return job


async def latest_heartbeat(session: AsyncSession) -> datetime | None:
    """When any worker last reported; ``None`` if none ever did (health checks, readiness)."""
    return await session.scalar(select(func.max(WorkerHeartbeat.last_seen_at)))


# ---- worker -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker knows about a job it holds; ``attempts`` counts this attempt."""

    id: uuid.UUID
    actor: str
    args: dict[str, Any]
    tenant_id: uuid.UUID | None
    queue: str
    attempts: int
    max_attempts: int
    locked_by: str


_current: contextvars.ContextVar[ClaimedJob | None] = contextvars.ContextVar("current_job", default=None)


def current_job() -> ClaimedJob | None:
    """The job the calling actor is running (for logs and idempotency keys); ``None`` outside a job."""
    return _current.get()


def retry_delay(attempts: int) -> timedelta:
    """Backoff before the next attempt, after ``attempts`` failed ones (cap applied before jitter)."""
    base = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    return timedelta(seconds=base * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER))


def _describe(exc: BaseException) -> str:
    """Type and message first; then as much of the traceback's end (the raising frames) as fits."""
    head = f"{type(exc).__name__}: {exc}"[: LAST_ERROR_MAX // 4]
    trace = "".join(traceback.format_exception(exc))
    room = LAST_ERROR_MAX - len(head) - 2
    if len(trace) > room:
        trace = "[...]\n" + trace[-(room - 6) :]
    return f"{head}\n\n{trace}"


def _beat_interval() -> float:
    # Renew well inside the lease so one slow beat does not let a healthy job be reclaimed.
    return max(0.2, min(5.0, settings.JOB_LEASE_SECONDS / 3))


class Worker:
    """Claims due jobs and runs up to ``concurrency`` of them at once; ``queues=None`` serves every queue."""

    def __init__(
        self, worker_id: str | None = None, *, concurrency: int | None = None, queues: list[str] | None = None
    ) -> None:
        self.hostname = socket.gethostname()[:255]
        self.worker_id = worker_id or f"{self.hostname}:{os.getpid()}:{secrets.token_hex(3)}"[-100:]
        self.concurrency = concurrency or settings.WORKER_CONCURRENCY
        self.queues = queues
        self.started_at = clock.utcnow()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: dict[uuid.UUID, ClaimedJob] = {}
        self._done = 0
        self._reported = 0
        self._last_tick: datetime | None = None

    def __repr__(self) -> str:
        return f"Worker({self.worker_id!r}, concurrency={self.concurrency}, queues={self.queues!r})"

    @property
    def jobs_done(self) -> int:
        """Attempts this worker finished, whatever their outcome."""
        return self._done

    # -- main loops --

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then let running jobs finish. Cancelling abandons them to their lease."""
        _wakeups.add(self._wake)
        await self._beat_safely()  # announce the worker before it holds any job
        beat = asyncio.create_task(self._beat_loop(), name=f"heartbeat {self.worker_id}")
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.tick_schedules()
                    free = self.concurrency - len(self._tasks)
                    if free > 0:
                        for job in await self._claim(free):
                            self._spawn(job)
                except Exception:  # a database hiccup must not kill the worker; the next poll retries
                    log.exception("worker %s: poll failed", self.worker_id)
                await _wait_any(stop, self._wake, seconds=settings.WORKER_POLL_SECONDS)
        except asyncio.CancelledError:
            for task in self._tasks:
                task.cancel()
            raise
        finally:
            _wakeups.discard(self._wake)
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await self._deregister()

    async def run_once(self) -> int:
        """Claim up to ``concurrency`` due jobs, run them, and return how many were claimed."""
        claimed = await self._claim(self.concurrency)
        if not claimed:
            return 0
        renew = asyncio.create_task(self._renew_loop())
        try:
            await asyncio.gather(*(self._execute(job) for job in claimed))
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
        return len(claimed)

    def _spawn(self, job: ClaimedJob) -> None:
        task = asyncio.create_task(self._execute(job), name=f"job {job.actor} {job.id}")
        self._tasks.add(task)

        def finished(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._wake.set()  # a slot is free: look for more work now

        task.add_done_callback(finished)

    # -- claiming --

    async def _claim(self, limit: int) -> list[ClaimedJob]:
        now = clock.utcnow()
        lease_until = now + timedelta(seconds=settings.JOB_LEASE_SECONDS)
        claimed: list[ClaimedJob] = []
        due = or_(
            and_(Job.state == JobState.queued, Job.run_at <= now),
            and_(Job.state == JobState.running, Job.lease_expires_at < now),
        )
        if self.queues is not None:
            due = and_(due, Job.queue.in_(list(self.queues)))
        # Most polls find nothing. Ask a read connection first: on SQLite a write unit of work takes the single
        # writer (BEGIN IMMEDIATE) and keeps it across every trip through the event loop, which under load held the
        # editors' batches back for up to a second, once a second.
        async with db.unit_of_work(write=False) as session:
            if await session.scalar(select(Job.id).where(due).limit(1)) is None:
                return claimed
        async with db.unit_of_work() as session:
            stmt = select(Job).where(due).order_by(Job.priority, Job.run_at, Job.id).limit(limit)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            for job in (await session.scalars(stmt)).all():
                if job.state == JobState.running:  # its worker died or stalled past the lease
                    lost = f"lease of {job.locked_by} expired during attempt {job.attempts} (worker lost?)"
                    if job.attempts >= job.max_attempts:
                        job.state, job.finished_at, job.lease_expires_at = JobState.dead, now, None
                        job.last_error = lost + "; no attempts left"
                        log.error("job %s (%s) dead: %s", job.id, job.actor, job.last_error)
                        continue
                    job.last_error = lost
                job.state = JobState.running
                job.attempts += 1
                job.locked_by = self.worker_id
                job.lease_expires_at = lease_until
                claimed.append(
                    ClaimedJob(
                        job.id,
                        job.actor,
                        dict(job.args or {}),
                        job.tenant_id,
                        job.queue,
                        job.attempts,
                        job.max_attempts,
                        self.worker_id,
                    )
                )
        return claimed

    def _fence(self, job: ClaimedJob) -> Any:
        return and_(
            Job.id == job.id,
            Job.state == JobState.running,
            Job.locked_by == job.locked_by,
            Job.attempts == job.attempts,
        )

    # -- running --

    async def _execute(self, job: ClaimedJob) -> None:
        token = _current.set(job)
        self._in_flight[job.id] = job
        try:
            spec = _actors.get(job.actor)
            if spec is None:
                await self._failed(
                    job,
                    PermanentJobError(
                        f"unknown actor {job.actor!r}: nothing registered under this name in this worker "
                        "(is the module defining it imported by the worker process?)"
                    ),
                    traceback_=False,
                )
                return
            kwargs = dict(job.args)
            if job.tenant_id is not None:
                kwargs["tenant_id"] = str(job.tenant_id)
            try:
                async with db.unit_of_work() as session:
                    limit = asyncio.timeout(spec.timeout_seconds)
                    try:
                        async with limit:
                            await spec.fn(session, **kwargs)
                    except TimeoutError as exc:
                        if limit.expired():
                            raise JobTimeout(f"ran longer than {spec.timeout_seconds:g} s") from exc
                        raise
                    # Success commits with the actor's own writes, or not at all.
                    result = await session.execute(
                        update(Job)
                        .where(self._fence(job))
                        .values(state=JobState.succeeded, finished_at=clock.utcnow(), lease_expires_at=None)
                        .execution_options(synchronize_session=False)
                    )
                    if result.rowcount != 1:  # type: ignore[attr-defined]
                        raise _LeaseLost
            except _LeaseLost:
                log.warning("job %s (%s): lease lost to another worker; attempt rolled back", job.id, job.actor)
            except Exception as exc:
                await self._failed(job, exc)
        except Exception:  # the outcome could not be written; the lease will hand the job out again
            log.exception("job %s (%s): could not record the outcome", job.id, job.actor)
        finally:
            self._done += 1
            self._in_flight.pop(job.id, None)
            _current.reset(token)

    async def _failed(self, job: ClaimedJob, exc: Exception, *, traceback_: bool = True) -> None:
        now = clock.utcnow()
        error = _describe(exc) if traceback_ else f"{type(exc).__name__}: {exc}"
        values: dict[str, Any] = {"last_error": error, "lease_expires_at": None}
        if isinstance(exc, PermanentJobError) or job.attempts >= job.max_attempts:
            values.update(state=JobState.dead, finished_at=now)
            log.error("job %s (%s) dead after %d attempt(s): %s", job.id, job.actor, job.attempts, error)
        else:
            values.update(state=JobState.queued, run_at=now + retry_delay(job.attempts))
            log.warning("job %s (%s) attempt %d failed: %s", job.id, job.actor, job.attempts, error.split("\n")[0])
        async with db.unit_of_work() as session:
            await session.execute(
                update(Job).where(self._fence(job)).values(**values).execution_options(synchronize_session=False)
            )

    # -- heartbeat and leases --

    async def heartbeat(self) -> None:
        """Record that this worker is alive, add the jobs it finished, and renew the leases it holds."""
        now = clock.utcnow()
        done = self._done
        async with db.unit_of_work() as session:
            table = WorkerHeartbeat.__table__
            stmt = dialect_insert(session)(WorkerHeartbeat).values(
                worker_id=self.worker_id,
                hostname=self.hostname,
                pid=os.getpid(),
                started_at=self.started_at,
                last_seen_at=now,
                jobs_done=done - self._reported,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[WorkerHeartbeat.worker_id],
                set_={
                    "hostname": stmt.excluded.hostname,
                    "pid": stmt.excluded.pid,
                    "started_at": stmt.excluded.started_at,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "jobs_done": table.c.jobs_done + stmt.excluded.jobs_done,
                },
            )
            await session.execute(stmt)
            await self._renew(session, now)
            await session.execute(
                delete(WorkerHeartbeat).where(WorkerHeartbeat.last_seen_at < now - HEARTBEAT_PRUNE_AFTER)
            )
        self._reported = done

    async def _renew(self, session: AsyncSession, now: datetime) -> None:
        if not self._in_flight:
            return
        await session.execute(
            update(Job)
            .where(Job.id.in_(list(self._in_flight)), Job.locked_by == self.worker_id, Job.state == JobState.running)
            .values(lease_expires_at=now + timedelta(seconds=settings.JOB_LEASE_SECONDS))
            .execution_options(synchronize_session=False)
        )

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(_beat_interval())
            try:
                async with db.unit_of_work() as session:
                    await self._renew(session, clock.utcnow())
            except Exception:
                log.exception("worker %s: lease renewal failed", self.worker_id)

    async def _beat_safely(self) -> None:
        try:
            await self.heartbeat()
        except Exception:  # the database is away; leases lapse and jobs move on, as designed
            log.exception("worker %s: heartbeat failed", self.worker_id)

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(_beat_interval())
            await self._beat_safely()

    async def _deregister(self) -> None:
        """A worker that stops cleanly leaves the list; only crashed ones show up as stale."""
        try:
            async with db.unit_of_work() as session:
                await session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == self.worker_id))
        except Exception:
            log.exception("worker %s: could not remove its heartbeat", self.worker_id)

    # -- schedules --

    async def tick_schedules(self) -> int:
        """Enqueue every registered periodic job whose slot has come; returns how many this worker enqueued."""
        now = clock.utcnow()
        if not _schedules or (self._last_tick and now - self._last_tick < timedelta(seconds=SCHEDULE_TICK_SECONDS)):
            return 0
        self._last_tick = now
        async with db.unit_of_work(write=False) as session:
            known = {name: at for name, at in await session.execute(select(JobSchedule.name, JobSchedule.next_run_at))}
        enqueued = 0
        for schedule in list(_schedules.values()):
            slot = known.get(schedule.name)
            if slot is not None and slot > now:
                continue
            async with db.unit_of_work() as session:
                if slot is None:  # first run anywhere: racing creators meet on the primary key
                    await session.execute(
                        dialect_insert(session)(JobSchedule)
                        .values(name=schedule.name, next_run_at=now)
                        .on_conflict_do_nothing(index_elements=[JobSchedule.name])
                    )
                    slot = await session.scalar(
                        select(JobSchedule.next_run_at).where(JobSchedule.name == schedule.name)
                    )
                    if slot is None or slot > now:
                        continue
                following = slot + schedule.every * ((now - slot) // schedule.every + 1)
                moved = await session.execute(
                    update(JobSchedule)
                    .where(JobSchedule.name == schedule.name, JobSchedule.next_run_at == slot)
                    .values(next_run_at=following)
                    .execution_options(synchronize_session=False)
                )
                if moved.rowcount == 1:  # type: ignore[attr-defined]
                    key = f"periodic:{schedule.name}:{slot.isoformat()}"
                    if await enqueue(session, schedule.actor, idempotency_key=key, **schedule.args) is not None:
                        enqueued += 1
        return enqueued


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, *, seconds: float) -> None:
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def run_pending(max_jobs: int = 1000) -> int:
    """Run due jobs in this process until none are due (schedules are not ticked); returns how many ran."""
    worker = Worker(f"run-pending:{os.getpid()}:{secrets.token_hex(3)}")
    total = 0
    while total < max_jobs:
        worker.concurrency = min(settings.WORKER_CONCURRENCY, max_jobs - total)
        ran = await worker.run_once()
        if ran == 0:
            break
        total += ran
    return total


async def run_worker_forever() -> None:
    """``scribetree worker``: SIGTERM or SIGINT stops claiming, lets running jobs finish, then returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        worker = Worker()
        log.info("worker %s started (concurrency %s)", worker.worker_id, worker.concurrency)
        await worker.run(stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


# ---- retention ----------------------------------------------------------------------------------------
# Finished rows are history, not work: keep succeeded jobs a week and dead ones a month (long enough for
# an operator to see and replay them), so the claim indexes and queue_stats stay small.
SUCCEEDED_KEEP = timedelta(days=7)
DEAD_KEEP = timedelta(days=30)


async def prune_finished(session: AsyncSession) -> int:
    now = clock.utcnow()
    result = await session.execute(
        delete(Job).where(
            or_(
                and_(Job.state == JobState.succeeded, Job.finished_at < now - SUCCEEDED_KEEP),
                and_(Job.state == JobState.dead, Job.finished_at < now - DEAD_KEEP),
            )
        )
    )
    return result.rowcount or 0


@actor("core.prune_finished_jobs", queue="maintenance", max_attempts=3)
async def _prune_finished_jobs(session: AsyncSession) -> None:
    removed = await prune_finished(session)
    if removed:
        log.info("pruned %d finished jobs", removed)


periodic("core.prune_finished_jobs", every=timedelta(hours=1), actor="core.prune_finished_jobs")
