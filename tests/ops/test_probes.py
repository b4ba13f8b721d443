"""Operations: liveness and readiness probes, Prometheus metrics, and the operators' job-queue API."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, jobs
from scribetree.core.jobs_models import Job, JobState
from scribetree.ops.service import migration_head

OPERATOR = pytest.mark.auth(platform_role="operator")


def samples(body: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(body) for s in family.samples]


@pytest.fixture
async def dead_job(session: AsyncSession) -> Job:
    now = clock.utcnow()
    job = Job(
        queue="default",
        actor="tests.gone",
        args={"n": 1},
        state=JobState.dead,
        run_at=now,
        attempts=8,
        max_attempts=8,
        created_at=now,
        finished_at=now,
        last_error="PermanentJobError: the record is gone",
    )
    session.add(job)
    await session.commit()
    return job


@pytest.fixture
async def alive_worker() -> AsyncIterator[jobs.Worker]:
    worker = jobs.Worker("probe-test-worker")
    await worker.heartbeat()
    yield worker


class TestProbes:
    async def test_healthz(self, anon: httpx.AsyncClient) -> None:
        r = await anon.get("/healthz")
        assert (r.status_code, r.json()) == (200, {"status": "ok"})

    async def test_readyz_is_503_without_a_worker_and_says_why(self, anon: httpx.AsyncClient) -> None:
        r = await anon.get("/readyz")
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "not ready"
        assert body["checks"]["worker"] == {"ok": False, "last_heartbeat": None}
        assert body["checks"]["database"]["ok"] is True
        head = migration_head()
        assert body["checks"]["migrations"] == {"ok": True, "current": head, "expected": head}

    async def test_readyz_is_200_after_a_heartbeat(self, anon: httpx.AsyncClient, alive_worker: jobs.Worker) -> None:
        r = await anon.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ready"
        assert all(check["ok"] for check in r.json()["checks"].values())
        assert r.json()["checks"]["worker"]["last_heartbeat"] is not None

    async def test_readyz_reports_a_stale_migration(
        self, anon: httpx.AsyncClient, session: AsyncSession, alive_worker: jobs.Worker
    ) -> None:
        head = migration_head()
        await session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        await session.commit()
        try:
            r = await anon.get("/readyz")
        finally:
            await session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            await session.commit()
        assert r.status_code == 503, r.text
        assert r.json()["checks"]["migrations"] == {"ok": False, "current": "older", "expected": head}
        assert r.json()["checks"]["worker"]["ok"] is True


class TestMetrics:
    async def test_requests_are_counted_by_route_template(self, anon: httpx.AsyncClient, dead_job: Job) -> None:
        member_id = uuid.uuid4()
        for _ in range(2):
            assert (await anon.get(f"/api/v1/members/{member_id}")).status_code == 401
        assert (await anon.get("/api/v1/no-such-thing")).status_code == 404
        r = await anon.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert str(member_id) not in r.text  # never a raw id in a label
        found = samples(r.text)
        routes = {labels.get("route") for name, labels, _ in found if name == "scribetree_http_requests_total"}
        assert "/api/v1/members/{membership_id}" in routes
        assert "unmatched" in routes
        assert not [r for r in routes if r and re.search(r"[0-9a-f]{8}-[0-9a-f]{4}", r)]
        counted = [
            v
            for name, labels, v in found
            if name == "scribetree_http_requests_total"
            and labels == {"method": "GET", "route": "/api/v1/members/{membership_id}", "status": "401"}
        ]
        assert counted and counted[0] >= 2
        buckets = [
            labels
            for name, labels, _ in found
            if name == "scribetree_http_request_duration_seconds_bucket"
            and labels.get("route") == "/api/v1/members/{membership_id}"
        ]
        assert {b["le"] for b in buckets} >= {"0.005", "1.0", "+Inf"}
        jobs_gauge = {labels["state"]: v for name, labels, v in found if name == "scribetree_jobs"}
        assert jobs_gauge["dead"] == 1 and set(jobs_gauge) == {s.value for s in JobState}


class TestJobsApi:
    @OPERATOR
    async def test_stats_list_and_replay(
        self, client: httpx.AsyncClient, dead_job: Job, alive_worker: jobs.Worker
    ) -> None:
        stats = (await client.get("/api/v1/platform/jobs/stats")).json()
        assert stats["by_state"]["dead"] == 1 and stats["dead"] == 1
        assert [w["worker_id"] for w in stats["workers"]] == ["probe-test-worker"]

        listed = await client.get("/api/v1/platform/jobs", params={"state": "dead"})
        assert listed.status_code == 200
        assert [(j["id"], j["state"], j["last_error"]) for j in listed.json()] == [
            (str(dead_job.id), "dead", dead_job.last_error)
        ]
        assert (await client.get("/api/v1/platform/jobs", params={"state": "queued"})).json() == []

        replayed = await client.post(f"/api/v1/platform/jobs/{dead_job.id}/replay")
        assert replayed.status_code == 200, replayed.text
        assert (replayed.json()["state"], replayed.json()["attempts"]) == ("queued", 0)
        assert (await client.get("/api/v1/platform/jobs/stats")).json()["by_state"]["queued"] == 1

        again = await client.post(f"/api/v1/platform/jobs/{dead_job.id}/replay")
        assert (again.status_code, again.json()["error"]) == (409, "Conflict")
        missing = await client.post(f"/api/v1/platform/jobs/{uuid.uuid4()}/replay")
        assert missing.status_code == 404

    @pytest.mark.auth(role="institution_admin")
    async def test_an_institution_admin_is_refused(self, client: httpx.AsyncClient, dead_job: Job) -> None:
        for method, path in (
            ("GET", "/api/v1/platform/jobs/stats"),
            ("GET", "/api/v1/platform/jobs"),
            ("POST", f"/api/v1/platform/jobs/{dead_job.id}/replay"),
        ):
            r = await client.request(method, path)
            assert r.status_code == 403, (path, r.text)
        listed = await client.get("/api/v1/platform/jobs")
        assert dead_job.actor not in listed.text


def test_migration_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from scribetree.core.config import PROJECT_ROOT

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert migration_head() == ScriptDirectory.from_config(cfg).get_current_head()
