"""The catch-up jobs: one per active tenant every 30 s; a backlog goes on in new jobs with short transactions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scribetree.analytics import service as analytics_module
from scribetree.analytics.service import analytics
from scribetree.analytics.tasks import TENANT_ACTOR, refresh_scan, refresh_tenant
from scribetree.core import db
from scribetree.core.jobs_models import Job
from scribetree.tenancy.models import Tenant
from tests.analytics.test_service import T0, Writer, metrics_row
from tests.factories.writing import ins
from tests.writing.conftest import CtxFor, Klass


async def _jobs() -> list[tuple[object, dict[str, object]]]:
    """``(tenant_id, args)`` of the catch-up jobs, oldest first."""
    async with db.unit_of_work(write=False) as s:
        stmt = select(Job.tenant_id, Job.args).where(Job.actor == TENANT_ACTOR).order_by(Job.created_at)
        return [(t, a) for t, a in (await s.execute(stmt)).all()]


class TestJobs:
    async def test_the_scan_enqueues_one_job_per_tenant_per_slot(self, klass: Klass, other_tenant: Tenant) -> None:
        async with db.unit_of_work() as s:
            await refresh_scan(s)
        async with db.unit_of_work() as s:  # the same 30 s slot: the same jobs
            await refresh_scan(s)
        jobs = await _jobs()
        assert sorted(str(t) for t, _args in jobs) == sorted([str(klass.tenant.id), str(other_tenant.id)])

    async def test_a_backlog_is_folded_in_bounded_runs(
        self, klass: Klass, ctx_for: CtxFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ctx_a, ctx_b = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.classmate, klass.tenant)
        a = await Writer.open(ctx_a, klass.assignment.id, T0)
        b = await Writer.open(ctx_b, klass.assignment.id, T0)
        for i in range(3):
            await a.send(T0 + timedelta(seconds=i), [ins(len(a.text), "word ")])
            await b.send(T0 + timedelta(seconds=i), [ins(len(b.text), "word ")])
        async with db.unit_of_work() as s:  # a budget of 2 batches: the first document (3 batches) only
            first = await analytics.refresh_tenant(s, klass.tenant.id, max_batches=2)
        assert (first.documents, first.batches, first.more) == (1, 2, True)
        monkeypatch.setattr(analytics_module, "TENANT_MAX_BATCHES", 2)
        async with db.unit_of_work() as s:  # the job: folds what it may and enqueues the next round
            await refresh_tenant(s, tenant_id=str(klass.tenant.id))
        assert await _jobs() == [(klass.tenant.id, {"turn": 1})]
        async with db.unit_of_work() as s:
            rest = await analytics.refresh_tenant(s, klass.tenant.id, max_batches=100)
        assert (rest.documents, rest.batches, rest.more) == (1, 2, False)  # 6 batches: 2 + 2 folded above
        rows = [await metrics_row(a.document_id), await metrics_row(b.document_id)]
        assert [(r.batches, r.words_added) for r in rows] == [(3, 3), (3, 3)]
