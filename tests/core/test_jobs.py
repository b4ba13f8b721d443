"""The durable job queue, end to end against the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, db, jobs
from scribetree.core.config import settings
from scribetree.core.errors import Conflict, NotFound
from scribetree.core.jobs_models import Job, JobSchedule, JobState, WorkerHeartbeat
from tests.core import job_actors_for_tests  # noqa: F401 (registers the test actors)

pytestmark = pytest.mark.usefixtures("engines")

ROOT = Path(__file__).resolve().parents[2]


# ---- helpers ------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def reading() -> AsyncIterator[AsyncSession]:
    """A read session whose objects stay readable afterwards (closed, not rolled back: nothing expires)."""
    session = db.make_session(write=False)
    try:
        yield session
    finally:
        await session.close()


async def all_jobs() -> list[Job]:
    async with reading() as s:
        return list((await s.scalars(select(Job).order_by(Job.id))).all())


async def get_job(job_id: uuid.UUID) -> Job:
    async with reading() as s:
        return (await s.scalars(select(Job).where(Job.id == job_id))).one()


async def enqueue(actor: str, **kwargs: object) -> Job:
    async with db.unit_of_work() as s:
        job = await jobs.enqueue(s, actor, **kwargs)
    assert job is not None
    return job


async def wait_until(check: Callable[[], Awaitable[bool]], *, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.02)


def runs(folder: Path, token: str) -> int:
    return len(list(folder.glob(f"{token}.*")))


@pytest.fixture(autouse=True)
def _no_other_schedules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Domains register periodic jobs at import; here workers tick only what a test registers."""
    monkeypatch.setattr(jobs, "_schedules", {})


@pytest.fixture
def schedule() -> str:
    return "tests.every-minute"


# ---- tests --------------------------------------------------------------------------------------------


class TestEnqueue:
    async def test_commit_makes_the_job_durable_with_the_actor_defaults(self) -> None:
        tenant = uuid.uuid4()
        ref = uuid.uuid4()
        job = await enqueue("tests.flaky", tenant_id=tenant, dir="/x", fail_times=ref)
        stored = await get_job(job.id)
        assert stored.state == JobState.queued
        assert stored.actor == "tests.flaky"
        assert stored.queue == "default"
        assert stored.max_attempts == 5  # from @actor(max_attempts=5)
        assert stored.attempts == 0
        assert stored.tenant_id == tenant
        assert stored.args == {"dir": "/x", "fail_times": str(ref)}  # UUIDs become strings

    async def test_rollback_of_the_caller_leaves_no_job(self) -> None:
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                await jobs.enqueue(s, "tests.record", dir="/x", token="t")
                raise RuntimeError("the request failed")
        assert await all_jobs() == []

    async def test_idempotency_key_inserts_once_and_keeps_the_transaction_usable(self) -> None:
        async with db.unit_of_work() as s:
            first = await jobs.enqueue(s, "tests.record", idempotency_key="k1", dir="/x", token="a")
            again = await jobs.enqueue(s, "tests.record", idempotency_key="k1", dir="/x", token="b")
        assert first is not None
        assert again is None
        async with db.unit_of_work() as s:
            later = await jobs.enqueue(s, "tests.record", idempotency_key="k1", dir="/x", token="c")
            other = await jobs.enqueue(s, "tests.record", idempotency_key="k2", dir="/x", token="d")
        assert later is None
        assert other is not None  # written after the conflict, in the same transaction, and committed
        stored = await all_jobs()
        assert [(j.idempotency_key, j.args["token"]) for j in stored] == [("k1", "a"), ("k2", "d")]

    async def test_objects_that_are_not_json_are_refused(self) -> None:
        async with db.unit_of_work() as s:
            with pytest.raises(TypeError, match="not a JSON value"):
                await jobs.enqueue(s, "tests.record", dir=object(), token="t")

    async def test_commit_wakes_a_local_worker_before_its_poll(self, tmp_path: Path, monkeypatch) -> None:
        monkeypatch.setattr(settings, "WORKER_POLL_SECONDS", 30.0)
        worker = jobs.Worker("nudged", concurrency=1)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        try:
            await asyncio.sleep(0.2)  # the worker has polled once and is waiting
            job = await enqueue("tests.record", dir=str(tmp_path), token="nudge")
            await wait_until(lambda: _state_is(job.id, JobState.succeeded), seconds=5)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert runs(tmp_path, "nudge") == 1


async def _state_is(job_id: uuid.UUID, state: JobState) -> bool:
    return (await get_job(job_id)).state == state


class TestWorker:
    async def test_success_runs_the_actor_once_in_its_own_unit_of_work(self, tmp_path: Path) -> None:
        tenant = uuid.uuid4()
        job = await enqueue("tests.record", tenant_id=tenant, dir=str(tmp_path), token="ok")
        assert await jobs.run_pending() == 1
        done = await get_job(job.id)
        assert done.state == JobState.succeeded
        assert done.attempts == 1
        assert done.finished_at is not None
        assert done.lease_expires_at is None
        files = list(tmp_path.glob("ok.*"))
        assert len(files) == 1
        assert files[0].read_text() == str(tenant)  # the job's tenant reaches the actor as tenant_id
        assert await jobs.run_pending() == 0

    async def test_jobs_not_yet_due_wait(self, tmp_path: Path) -> None:
        job = await enqueue(
            "tests.record", run_at=clock.utcnow() + timedelta(minutes=5), dir=str(tmp_path), token="later"
        )
        assert await jobs.run_pending() == 0
        with clock.travel(timedelta(minutes=6)):
            assert await jobs.run_pending() == 1
        assert (await get_job(job.id)).state == JobState.succeeded

    async def test_lower_priority_number_runs_first(self, tmp_path: Path) -> None:
        late = await enqueue("tests.record", priority=200, dir=str(tmp_path), token="b")
        early = await enqueue("tests.record", priority=10, dir=str(tmp_path), token="a")
        worker = jobs.Worker("prio", concurrency=1)
        assert await worker.run_once() == 1
        assert (await get_job(early.id)).state == JobState.succeeded
        assert (await get_job(late.id)).state == JobState.queued

    async def test_failure_retries_with_backoff_then_succeeds(self, tmp_path: Path) -> None:
        job = await enqueue("tests.flaky", dir=str(tmp_path), fail_times=2)

        before = clock.utcnow()
        assert await jobs.run_pending() == 1
        first = await get_job(job.id)
        assert first.state == JobState.queued
        assert first.attempts == 1
        assert first.last_error is not None
        assert first.last_error.startswith("RuntimeError: flaky failure 1 of 2")
        assert "Traceback" in first.last_error
        assert timedelta(seconds=1.6) <= first.run_at - before <= timedelta(seconds=2.4) + (clock.utcnow() - before)
        assert await jobs.run_pending() == 0  # backing off

        with clock.travel(timedelta(seconds=3)):
            before = clock.utcnow()
            assert await jobs.run_pending() == 1
            second = await get_job(job.id)
            assert second.attempts == 2
            assert (
                timedelta(seconds=3.2) <= second.run_at - before <= timedelta(seconds=4.8) + (clock.utcnow() - before)
            )

        with clock.travel(timedelta(seconds=8)):
            assert await jobs.run_pending() == 1
        done = await get_job(job.id)
        assert done.state == JobState.succeeded
        assert done.attempts == 3
        assert runs(tmp_path, "flaky") == 3

    def test_backoff_doubles_is_capped_and_jittered(self) -> None:
        for attempts, base in [(1, 2), (2, 4), (5, 32), (11, 2048), (12, 3600), (40, 3600)]:
            delays = {jobs.retry_delay(attempts).total_seconds() for _ in range(50)}
            assert all(base * 0.8 <= d <= base * 1.2 for d in delays), (attempts, delays)
            assert len(delays) > 1  # jittered

    async def test_failed_attempt_rolls_back_the_actors_writes(self, tmp_path: Path) -> None:
        job = await enqueue("tests.enqueue_child", dir=str(tmp_path), fail=True)
        assert await jobs.run_pending() == 1
        assert [j.id for j in await all_jobs()] == [job.id]  # the child job it wrote is gone
        assert (await get_job(job.id)).last_error.startswith("RuntimeError: failing after a write")

    async def test_after_max_attempts_the_job_is_dead_and_can_be_replayed(self) -> None:
        job = await enqueue("tests.fail_always", max_attempts=2)
        assert await jobs.run_pending() == 1
        with clock.travel(timedelta(seconds=10)):
            assert await jobs.run_pending() == 1
        dead = await get_job(job.id)
        assert dead.state == JobState.dead
        assert dead.attempts == 2
        assert dead.finished_at is not None
        assert dead.last_error.startswith("ValueError: boom")
        with clock.travel(timedelta(days=1)):
            assert await jobs.run_pending() == 0  # dead stays dead

        async with db.unit_of_work() as s:
            assert (await jobs.queue_stats(s))["dead"] == 1
            replayed = await jobs.replay(s, job.id)
            assert replayed.state == JobState.queued
        again = await get_job(job.id)
        assert (again.state, again.attempts, again.finished_at) == (JobState.queued, 0, None)
        assert await jobs.run_pending() == 1
        assert (await get_job(job.id)).attempts == 1

    async def test_replay_refuses_missing_and_live_jobs(self) -> None:
        job = await enqueue("tests.fail_always")
        async with db.unit_of_work() as s:
            with pytest.raises(NotFound):
                await jobs.replay(s, uuid.uuid4())
            with pytest.raises(NotFound):
                await jobs.replay(s, "not-an-id")
            with pytest.raises(Conflict):
                await jobs.replay(s, job.id)

    async def test_permanent_error_goes_straight_to_dead(self) -> None:
        job = await enqueue("tests.permanent", reason="the document was deleted")
        assert await jobs.run_pending() == 1
        dead = await get_job(job.id)
        assert (dead.state, dead.attempts) == (JobState.dead, 1)
        assert dead.last_error.startswith("PermanentJobError: the document was deleted")

    async def test_unknown_actor_is_dead_with_a_clear_error(self) -> None:
        job = await enqueue("nobody.registered_this", x=1)
        assert await jobs.run_pending() == 1
        dead = await get_job(job.id)
        assert dead.state == JobState.dead
        assert "unknown actor 'nobody.registered_this'" in dead.last_error

    async def test_timeout_counts_as_a_failed_attempt(self) -> None:
        job = await enqueue("tests.slow")
        assert await jobs.run_pending() == 1
        failed = await get_job(job.id)
        assert (failed.state, failed.attempts) == (JobState.queued, 1)
        assert failed.last_error.startswith("JobTimeout: ran longer than 0.2 s")

    async def test_queues_limit_what_a_worker_claims(self, tmp_path: Path) -> None:
        job = await enqueue("tests.record", dir=str(tmp_path), token="q")
        assert await jobs.Worker("mail-only", queues=["mail"]).run_once() == 0
        assert await jobs.Worker("default", queues=["default"]).run_once() == 1
        assert (await get_job(job.id)).state == JobState.succeeded

    async def test_a_poll_that_finds_nothing_writes_nothing(self, tmp_path: Path) -> None:
        """An idle poll reads; it takes no write transaction (on SQLite that would hold the single writer)."""
        from sqlalchemy import Engine, event

        job = await enqueue(
            "tests.record", dir=str(tmp_path), token="later", run_at=clock.utcnow() + timedelta(hours=1)
        )
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            seen.append(" ".join(statement.split()))

        event.listen(Engine, "before_cursor_execute", record)
        try:
            assert await jobs.Worker("idle").run_once() == 0
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        assert [s for s in seen if s.startswith(("BEGIN IMMEDIATE", "UPDATE", "INSERT", "DELETE"))] == [], seen
        assert [s for s in seen if "FOR UPDATE" in s] == [], seen
        assert (await get_job(job.id)).state == JobState.queued
        with clock.travel(timedelta(hours=2)):
            assert await jobs.Worker("due").run_once() == 1
        assert (await get_job(job.id)).state == JobState.succeeded

    async def test_leases_are_renewed_while_a_long_job_runs(self, monkeypatch) -> None:
        monkeypatch.setattr(settings, "JOB_LEASE_SECONDS", 1)  # renewal every ~0.33 s
        job = await enqueue("tests.sleep", seconds=1.6)
        holder = asyncio.create_task(jobs.Worker("holder").run_once())
        await wait_until(lambda: _state_is(job.id, JobState.running))
        await asyncio.sleep(1.2)  # past the first lease
        assert await jobs.Worker("thief").run_once() == 0
        assert await holder == 1
        done = await get_job(job.id)
        assert (done.state, done.attempts, done.locked_by) == (JobState.succeeded, 1, "holder")

    async def test_a_worker_that_lost_its_lease_cannot_commit(self, tmp_path: Path) -> None:
        job = await enqueue("tests.enqueue_child", dir=str(tmp_path))
        stale, rescuer = jobs.Worker("stale"), jobs.Worker("rescuer")
        [first] = await stale._claim(1)  # it claims, then stalls past its lease
        with clock.travel(timedelta(seconds=settings.JOB_LEASE_SECONDS + 1)):
            [second] = await rescuer._claim(1)
        await stale._execute(first)  # wakes up and finishes while the rescuer holds the job: rolled back
        held = await get_job(job.id)
        assert (held.state, held.attempts, held.locked_by) == (JobState.running, 2, "rescuer")
        assert [j.id for j in await all_jobs()] == [job.id]
        await rescuer._execute(second)
        done = await get_job(job.id)
        assert (done.state, done.attempts, done.locked_by) == (JobState.succeeded, 2, "rescuer")
        children = [j for j in await all_jobs() if j.id != job.id]
        assert len(children) == 1  # only the rescuer's write survived

    async def test_expired_lease_without_attempts_left_is_dead(self) -> None:
        job = await enqueue("tests.sleep", seconds=0, max_attempts=1)
        await jobs.Worker("crashes")._claim(1)
        with clock.travel(timedelta(seconds=settings.JOB_LEASE_SECONDS + 1)):
            assert await jobs.run_pending() == 0
        dead = await get_job(job.id)
        assert dead.state == JobState.dead
        assert "lease of crashes expired during attempt 1" in dead.last_error


class TestConcurrency:
    async def test_two_workers_share_fifty_jobs_and_run_each_once(self, tmp_path: Path) -> None:
        async with db.unit_of_work() as s:
            for i in range(50):
                await jobs.enqueue(s, "tests.record", dir=str(tmp_path), token=f"job{i}", sleep=0.01)
        one, two = jobs.Worker("one", concurrency=4), jobs.Worker("two", concurrency=4)
        stop = asyncio.Event()
        running = [asyncio.create_task(w.run(stop)) for w in (one, two)]

        async def all_done() -> bool:
            async with reading() as s:
                n = await s.scalar(
                    select(func.count()).where(Job.state == JobState.succeeded, Job.actor == "tests.record")
                )
            return n == 50

        try:
            await wait_until(all_done)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*running), 10)

        counts = collections.Counter(p.name.split(".")[0] for p in tmp_path.iterdir())
        assert counts == {f"job{i}": 1 for i in range(50)}
        stored = await all_jobs()
        assert {j.attempts for j in stored} == {1}
        by_worker = collections.Counter(j.locked_by for j in stored)
        assert set(by_worker) == {"one", "two"}, by_worker  # both took part
        assert one.jobs_done + two.jobs_done == 50

    async def test_periodic_enqueues_once_per_slot_with_two_workers(self, schedule: str, tmp_path: Path) -> None:
        jobs.periodic(
            schedule, every=timedelta(minutes=1), actor="tests.record", args={"dir": str(tmp_path), "token": "tick"}
        )

        async def tick_both() -> int:
            counts = await asyncio.gather(jobs.Worker("a").tick_schedules(), jobs.Worker("b").tick_schedules())
            return sum(counts)

        assert await tick_both() == 1  # first slot: due as soon as a worker runs
        assert await tick_both() == 0  # same slot
        with clock.travel(timedelta(seconds=61)):
            assert await tick_both() == 1
            assert await tick_both() == 0
        with clock.travel(timedelta(minutes=30)):
            assert await tick_both() == 1  # missed slots are not back-filled
        stored = await all_jobs()
        assert len(stored) == 3
        assert all(j.idempotency_key.startswith(f"periodic:{schedule}:") for j in stored)
        assert len({j.idempotency_key for j in stored}) == 3
        async with reading() as s:
            next_run = await s.scalar(select(JobSchedule.next_run_at).where(JobSchedule.name == schedule))
        assert clock.utcnow() + timedelta(minutes=30) < next_run <= clock.utcnow() + timedelta(minutes=31)
        with clock.travel(timedelta(minutes=30)):
            assert await jobs.run_pending() == 3
        assert runs(tmp_path, "tick") == 3

    async def test_a_killed_worker_process_loses_its_job_to_another(self, database_url: str, tmp_path: Path) -> None:
        job = await enqueue("tests.block_once", dir=str(tmp_path))
        child = await spawn_worker(database_url, "doomed")
        try:
            await wait_until(lambda: _running_and_started(job.id, tmp_path), seconds=30)
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
        assert child.returncode == -signal.SIGKILL

        held = await get_job(job.id)
        assert (held.state, held.locked_by, held.attempts) == (JobState.running, "doomed", 1)
        await jobs.run_pending()  # may run the worker's own periodic jobs, never the held one
        still = await get_job(job.id)
        assert (still.state, still.locked_by, still.attempts) == (JobState.running, "doomed", 1)  # lease protects it

        with clock.travel(timedelta(seconds=30)):  # the 5 s lease has passed; no one renewed it
            assert await jobs.run_pending() >= 1
            async with reading() as s:
                stats = await jobs.queue_stats(s)
        done = await get_job(job.id)
        assert (done.state, done.attempts) == (JobState.succeeded, 2)
        assert done.locked_by != "doomed"
        assert "lease of doomed expired during attempt 1" in done.last_error
        assert (tmp_path / "done").exists()
        assert [(w["worker_id"], w["stale"]) for w in stats["workers"]] == [("doomed", False)]
        with clock.travel(timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS + 30)):
            async with reading() as s:
                stats = await jobs.queue_stats(s)
        assert [(w["worker_id"], w["stale"]) for w in stats["workers"]] == [("doomed", True)]

    async def test_sigterm_lets_the_running_job_finish_then_exits(self, database_url: str, tmp_path: Path) -> None:
        job = await enqueue("tests.record", dir=str(tmp_path), token="graceful", sleep=1.5)
        child = await spawn_worker(database_url, "--forever")
        try:
            await wait_until(lambda: _state_is(job.id, JobState.running), seconds=30)
            child.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(child.wait(), 20) == 0
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
        done = await get_job(job.id)
        assert (done.state, done.attempts) == (JobState.succeeded, 1)
        assert runs(tmp_path, "graceful") == 1
        async with reading() as s:
            assert await jobs.latest_heartbeat(s) is None  # it left the worker list on the way out


async def spawn_worker(database_url: str, arg: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SCRIBETREE_DATABASE_URL": database_url,
        "SCRIBETREE_JOB_LEASE_SECONDS": "5",
        "SCRIBETREE_WORKER_POLL_SECONDS": "0.2",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.core.worker_process", arg, cwd=ROOT, env=env
    )


async def _running_and_started(job_id: uuid.UUID, folder: Path) -> bool:
    return (folder / "started").exists() and await _state_is(job_id, JobState.running)


class TestOperations:
    async def test_heartbeat_counts_jobs_and_queue_stats_add_up(self, tmp_path: Path) -> None:
        now = clock.utcnow()
        for i in range(3):
            await enqueue("tests.record", dir=str(tmp_path), token=f"r{i}")
        worker = jobs.Worker("beat", concurrency=2)
        assert await worker.run_once() == 2
        await worker.heartbeat()
        assert await worker.run_once() == 1
        await worker.heartbeat()
        await worker.heartbeat()  # nothing new: the count does not grow
        async with reading() as s:
            beat = (await s.scalars(select(WorkerHeartbeat))).one()
            assert (beat.worker_id, beat.pid, beat.jobs_done) == ("beat", os.getpid(), 3)
            assert await jobs.latest_heartbeat(s) == beat.last_seen_at
        assert now <= beat.last_seen_at <= clock.utcnow()

        await enqueue("tests.record", run_at=now - timedelta(seconds=90), dir=str(tmp_path), token="old")
        await enqueue("tests.record", dir=str(tmp_path), token="new")
        await enqueue("tests.record", run_at=now + timedelta(hours=1), dir=str(tmp_path), token="future")
        await enqueue("nobody.home")
        dead = await enqueue("tests.permanent", priority=1, reason="r")
        await jobs.Worker("y", concurrency=1).run_once()
        assert (await get_job(dead.id)).state == JobState.dead
        async with reading() as s:
            stats = await jobs.queue_stats(s)
        assert stats["by_state"] == {"queued": 4, "running": 0, "succeeded": 3, "dead": 1}
        assert stats["by_queue"] == {"default": {"queued": 4, "running": 0, "succeeded": 3, "dead": 1}}
        assert stats["due"] == 3  # the future job is not a backlog
        assert 90 <= stats["oldest_queued_age_seconds"] < 120
        assert stats["dead"] == 1
        assert [(w["worker_id"], w["jobs_done"], w["stale"]) for w in stats["workers"]] == [("beat", 3, False)]

    async def test_list_jobs_filters_and_pages_newest_first(self) -> None:
        made = [await enqueue("tests.sleep", seconds=0) for _ in range(5)]
        await enqueue("tests.permanent", priority=1, reason="r")
        await jobs.Worker("one-job", concurrency=1).run_once()
        async with reading() as s:
            queued = await jobs.list_jobs(s, state=JobState.queued, limit=3)
            rest = await jobs.list_jobs(s, state=JobState.queued, limit=3, before_id=queued[-1].id)
            dead = await jobs.list_jobs(s, state=JobState.dead)
            everything = await jobs.list_jobs(s)
        assert [j.id for j in queued + rest] == [j.id for j in reversed(made)]
        assert [j.actor for j in dead] == ["tests.permanent"]
        assert len(everything) == 6

    async def test_a_stopped_worker_removes_its_heartbeat(self) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(jobs.Worker("short-lived").run(stop))

        async def beating() -> bool:
            async with reading() as s:
                return await jobs.latest_heartbeat(s) is not None

        await wait_until(beating, seconds=5)
        stop.set()
        await asyncio.wait_for(task, 5)
        async with reading() as s:
            assert await jobs.latest_heartbeat(s) is None

    def test_an_actor_name_cannot_be_taken_twice(self) -> None:
        with pytest.raises(ValueError, match="already registered"):

            @jobs.actor("tests.record")
            async def impostor(session: object) -> None: ...


class TestRetention:
    async def test_old_finished_jobs_are_pruned_and_live_ones_kept(self, engines, session):
        now = clock.utcnow()
        rows = {
            "old-ok": (JobState.succeeded, now - timedelta(days=8)),
            "new-ok": (JobState.succeeded, now - timedelta(days=1)),
            "old-dead": (JobState.dead, now - timedelta(days=31)),
            "new-dead": (JobState.dead, now - timedelta(days=8)),
            "queued": (JobState.queued, None),
        }
        for key, (state, finished) in rows.items():
            session.add(
                Job(
                    actor="x",
                    args={},
                    state=state,
                    run_at=now,
                    created_at=now,
                    finished_at=finished,
                    idempotency_key=key,
                )
            )
        await session.commit()
        async with db.unit_of_work() as s:
            assert await jobs.prune_finished(s) == 2
        left = set((await session.execute(select(Job.idempotency_key))).scalars())
        assert left == {"new-ok", "new-dead", "queued"}
