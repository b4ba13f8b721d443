"""Evaluation, dedupe, mutes, thresholds, delivery (quiet hours, digest, email), live push and the periodic job
end to end through the real job queue, on the real database."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts import service as service_module
from scribetree.alerts.models import Alert, AlertCourseSettings, AlertDelivery, AlertEducatorPrefs, DeliveryMode
from scribetree.alerts.repository import ActivityRepository
from scribetree.alerts.service import alerts
from scribetree.alerts.tasks import SCAN_ACTIVITY, SCAN_SCHEDULE
from scribetree.core import clock, db, jobs, mail, pubsub
from scribetree.core.jobs_models import Job
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Tenant
from scribetree.writing.models import Document
from scribetree.writing.notification_models import Notification
from tests.factories.alerts import add_batch, create_alert
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.writing import create_document
from tests.writing.conftest import Klass


async def stuck_student(session: AsyncSession, k: Klass, now: datetime, minutes: int = 25) -> Document:
    """A student who typed and deleted for ``minutes`` minutes (a batch a minute) and gained nothing."""
    doc = await create_document(session, k.assignment, owner=k.student, text="Some words here.")
    for i in range(minutes + 1):
        await add_batch(session, doc, k.student, now - timedelta(minutes=minutes - i), inserted="maybe ", deleted=12)
    await session.commit()
    return doc


async def count(session: AsyncSession, model: type, *where: object) -> int:
    await session.commit()  # end the test session's snapshot: the jobs wrote in their own units of work
    return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def evaluate(tenant: Tenant, now: datetime | None = None) -> int:
    async with db.unit_of_work() as s:
        found = await alerts.evaluate_activity(s, tenant.id, now)
    return found.created


class TestActivityEvaluation:
    async def test_stuck_student_flagged_once_with_evidence(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        doc = await stuck_student(session, klass, now)
        assert await evaluate(klass.tenant, now) == 1
        assert await evaluate(klass.tenant, now + timedelta(seconds=30)) == 0  # same window: deduplicated
        rows = (await session.execute(select(Alert))).scalars().all()
        assert len(rows) == 1
        a = rows[0]
        assert (a.rule, a.student_user_id, a.assignment_id, a.course_id) == (
            "stuck",
            klass.student.id,
            klass.assignment.id,
            klass.course.id,
        )
        assert a.evidence["figures"]["active_minutes"] == 25
        assert {"label": "Open the document", "url": f"/documents/{doc.id}/review"} in a.evidence["links"]
        assert a.suggested_actions == ["message", "check_in", "adjust_ai_budget"]
        # one delivery per staff member (instructor and TA), due now
        assert await count(session, AlertDelivery) == 2

    async def test_below_the_active_time_threshold_nothing(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        await stuck_student(session, klass, now, minutes=19)
        assert await evaluate(klass.tenant, now) == 0

    async def test_muted_rule_and_course_threshold(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        await stuck_student(session, klass, now)
        settings = AlertCourseSettings(
            tenant_id=klass.tenant.id, course_id=klass.course.id, thresholds={}, muted_rules=["stuck"]
        )
        session.add(settings)
        await session.commit()
        assert await evaluate(klass.tenant, now) == 0
        settings.muted_rules = []
        settings.thresholds = {"stuck_active_minutes": 30}
        await session.commit()
        assert await evaluate(klass.tenant, now) == 0
        settings.thresholds = {"stuck_active_minutes": 25}
        await session.commit()
        assert await evaluate(klass.tenant, now) == 1

    async def test_a_longer_stuck_window_reads_further_back(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        doc = await create_document(session, klass.assignment, owner=klass.student, text="Some words here.")
        for i in range(26):  # 100 to 75 minutes ago: outside the default 60-minute window
            await add_batch(
                session, doc, klass.student, now - timedelta(minutes=100 - i), inserted="maybe ", deleted=12
            )
        await add_batch(session, doc, klass.student, now, inserted="x", deleted=1)  # activity now
        session.add(
            AlertCourseSettings(
                tenant_id=klass.tenant.id,
                course_id=klass.course.id,
                thresholds={"stuck_window_minutes": 120},
                muted_rules=[],
            )
        )
        await session.commit()
        assert await evaluate(klass.tenant, now) == 1
        settings = (await session.execute(select(AlertCourseSettings))).scalar_one()
        settings.thresholds = {}
        await session.execute(delete(Alert))
        await session.commit()
        assert await evaluate(klass.tenant, now + timedelta(seconds=1)) == 0

    async def test_after_a_watermark_stuck_is_judged_on_the_whole_window(
        self, session: AsyncSession, klass: Klass
    ) -> None:
        now = clock.utcnow()
        assert await evaluate(klass.tenant, now - timedelta(minutes=2)) == 0  # a recent watermark
        await stuck_student(session, klass, now)  # 25 minutes of batches, only the last two are new
        writer = await create_document(session, klass.assignment, owner=klass.classmate)
        for i in range(26):  # a steady writer whose newest batches happen to be deletions
            at = now - timedelta(minutes=25 - i)
            await add_batch(
                session,
                writer,
                klass.classmate,
                at,
                inserted="" if i > 23 else "plenty of new words here ",
                deleted=30 if i > 23 else 0,
            )
        await session.commit()
        assert await evaluate(klass.tenant, now) == 1
        alert = (await session.execute(select(Alert))).scalar_one()
        assert (alert.rule, alert.student_user_id) == ("stuck", klass.student.id)
        assert alert.evidence["figures"]["batches"] == 26

    async def test_watermark_skips_old_activity(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        assert await evaluate(klass.tenant, now) == 0  # sets the watermark
        await stuck_student(session, klass, now - timedelta(minutes=5))  # last batch 5 min before the mark
        assert await evaluate(klass.tenant, now + timedelta(seconds=30)) == 0

    async def test_large_outside_paste(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        doc = await create_document(session, klass.assignment, owner=klass.student)
        words = " ".join(["pasted"] * 60)
        await add_batch(
            session,
            doc,
            klass.student,
            now,
            ops=[{"kind": "paste", "t": 0, "pos": 0, "text": words, "seen_in_doc": False}],
        )
        await add_batch(
            session,
            doc,
            klass.student,
            now,
            ops=[{"kind": "paste", "t": 0, "pos": 0, "text": words, "seen_in_doc": True}],
        )
        await session.commit()
        assert await evaluate(klass.tenant, now) == 1
        a = (await session.execute(select(Alert))).scalar_one()
        assert a.rule == "large_paste" and a.evidence["figures"]["paste_words"] == [60]

    async def test_tenant_isolation(self, session: AsyncSession, klass: Klass, other_tenant: Tenant) -> None:
        now = clock.utcnow()
        await stuck_student(session, klass, now)
        assert await evaluate(other_tenant, now) == 0
        assert await count(session, Alert) == 0
        assert await evaluate(klass.tenant, now) == 1


class TestTwoPhases:
    async def test_the_plan_reads_and_judges_and_only_apply_writes(self, session: AsyncSession, klass: Klass) -> None:
        """The periodic job plans on a read session (SQLite's single writer stays free while the rules run), then
        applies in its unit of work; together they do what evaluate_activity does."""
        now = clock.utcnow()
        await stuck_student(session, klass, now)
        async with db.unit_of_work(write=False) as read:
            plan = await alerts.plan_activity(read, klass.tenant.id, now)
            assert not read.new and not read.dirty and not read.info.get("wrote")
        assert [r["rule"] for r in plan.rows] == ["stuck"]
        assert await count(session, Alert) == 0  # nothing written by the plan
        async with db.unit_of_work() as s:
            assert (await alerts.apply_activity(s, klass.tenant.id, plan)).created == 1
        assert await count(session, Alert) == 1
        async with db.unit_of_work(write=False) as read:  # the watermark moved: the next plan sees nothing new
            again = await alerts.plan_activity(read, klass.tenant.id, now + timedelta(seconds=30))
        async with db.unit_of_work() as s:
            assert (await alerts.apply_activity(s, klass.tenant.id, again)).created == 0
        assert await count(session, Alert) == 1

    async def test_documents_are_judged_a_slice_at_a_time(
        self, session: AsyncSession, klass: Klass, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The plan reads one slice of documents' batches at a time (not every document's 90 s of typing at once)
        and finds what one pass over all of them finds."""
        now = clock.utcnow()
        writers = [klass.student, klass.classmate] + [
            await create_course_member(session, klass.course, klass.tenant, CourseRole.student) for _ in range(3)
        ]
        for i, writer in enumerate(writers):
            doc = await create_document(session, klass.assignment, owner=writer, text="Some words here.")
            minutes = 25 if i % 2 == 0 else 19  # three stuck, two below the active-time threshold
            for m in range(minutes + 1):
                await add_batch(
                    session, doc, writer, now - timedelta(minutes=minutes - m), inserted="maybe ", deleted=12
                )
        await session.commit()

        async def plan() -> list[tuple[str, object]]:
            async with db.unit_of_work(write=False) as read:
                found = await alerts.plan_activity(read, klass.tenant.id, now)
            return sorted((r["rule"], r["student_user_id"]) for r in found.rows)

        whole = await plan()
        assert whole == sorted(("stuck", w.id) for i, w in enumerate(writers) if i % 2 == 0)
        widths: list[int] = []
        real = ActivityRepository.batches

        async def counted(self: ActivityRepository, doc_ids: list[object], *args: object, **kw: object) -> list[object]:
            widths.append(len(doc_ids))
            return await real(self, doc_ids, *args, **kw)

        monkeypatch.setattr(service_module, "ACTIVITY_SLICE", 2)
        monkeypatch.setattr(ActivityRepository, "batches", counted)
        assert await plan() == whole
        assert widths and max(widths) <= 2 and sum(widths) >= len(writers)


class TestScheduledRules:
    async def test_no_activity_before_due_date(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        a = await create_assignment(session, klass.course, due_at=now + timedelta(days=2), stages=[])
        a.published_at = now - timedelta(days=4)
        doc = await create_document(session, a, owner=klass.classmate)
        await add_batch(session, doc, klass.classmate, now - timedelta(hours=3), inserted="fresh words")
        await session.commit()
        async with db.unit_of_work() as s:
            found = await alerts.evaluate_schedule(s, klass.tenant.id, now)
        assert found.created == 1
        alert = (await session.execute(select(Alert))).scalar_one()
        assert (alert.rule, alert.student_user_id, alert.assignment_id) == ("no_activity", klass.student.id, a.id)
        async with db.unit_of_work() as s:
            assert (await alerts.evaluate_schedule(s, klass.tenant.id, now + timedelta(hours=1))).created == 0


class TestDelivery:
    async def test_immediate_notification_and_email_and_live_push(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        await stuck_student(session, klass, now)
        channel = pubsub.alerts_channel(klass.tenant.id, klass.course.id)
        async with pubsub.subscribe(channel) as messages:
            await evaluate(klass.tenant, now)
            msg = await asyncio.wait_for(anext(aiter(messages)), timeout=5)
        alert = (await session.execute(select(Alert))).scalar_one()
        assert msg["type"] == "alert" and msg["alert_id"] == str(alert.id)
        assert msg["student_name"] == "Ada Student" and msg["rule"] == "stuck"
        assert msg["url"] == f"/courses/{klass.course.id}/alerts#alert-{alert.id}"
        async with db.unit_of_work() as s:
            sent = await alerts.deliver_due(s, klass.tenant.id, now + timedelta(seconds=1))
        assert (sent.notified, sent.emailed) == (2, 2)
        await session.commit()
        notes = (await session.execute(select(Notification).order_by(Notification.user_id))).scalars().all()
        assert {n.user_id for n in notes} == {klass.instructor.id, klass.ta.id}
        assert all(n.kind == "alert" and n.title.startswith("Ada Student: Stuck") for n in notes)
        async with db.unit_of_work() as s:  # delivered once
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(minutes=1))).notified == 0

    async def test_quiet_hours_hold_until_they_end(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
        session.add(
            AlertEducatorPrefs(
                tenant_id=klass.tenant.id,
                course_id=klass.course.id,
                user_id=klass.instructor.id,
                delivery=DeliveryMode.immediate,
                quiet_start_min=11 * 60,
                quiet_end_min=14 * 60,
                timezone="UTC",
            )
        )
        await stuck_student(session, klass, now)
        await evaluate(klass.tenant, now)
        async with db.unit_of_work() as s:
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(minutes=1))).notified == 1  # the TA
        assert await count(session, Notification, Notification.user_id == klass.instructor.id) == 0
        async with db.unit_of_work() as s:
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(hours=1, minutes=59))).notified == 0
        async with db.unit_of_work() as s:
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(hours=2))).notified == 1
        assert await count(session, Notification, Notification.user_id == klass.instructor.id) == 1

    async def test_daily_digest_gathers_alerts_into_one_message(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
        for uid in (klass.instructor.id, klass.ta.id):
            session.add(
                AlertEducatorPrefs(
                    tenant_id=klass.tenant.id,
                    course_id=klass.course.id,
                    user_id=uid,
                    delivery=DeliveryMode.digest,
                    timezone="UTC",
                    digest_hour=7,
                )
            )
        await stuck_student(session, klass, now)
        doc = await create_document(session, klass.assignment, owner=klass.classmate)
        words = " ".join(["pasted"] * 80)
        await add_batch(
            session,
            doc,
            klass.classmate,
            now,
            ops=[{"kind": "paste", "t": 0, "pos": 0, "text": words, "seen_in_doc": False}],
        )
        await session.commit()
        assert await evaluate(klass.tenant, now) == 2
        async with db.unit_of_work() as s:
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(hours=18, minutes=59))).notified == 0
        async with db.unit_of_work() as s:
            sent = await alerts.deliver_due(s, klass.tenant.id, now + timedelta(hours=19))
        assert (sent.digests, sent.notified, sent.emailed) == (2, 2, 2)
        await session.commit()
        note = (
            await session.execute(select(Notification).where(Notification.user_id == klass.instructor.id))
        ).scalar_one()
        assert note.kind == "alert_digest" and note.title == "Alert digest: 2 new alerts"
        assert "Ada Student: Stuck" in note.body and "Bea Classmate: Large paste" in note.body

    async def test_closed_alert_is_not_sent(self, session: AsyncSession, klass: Klass) -> None:
        now = clock.utcnow()
        await stuck_student(session, klass, now)
        await evaluate(klass.tenant, now)
        alert = (await session.execute(select(Alert))).scalar_one()
        alert.status = "dismissed"
        await session.commit()
        async with db.unit_of_work() as s:
            assert (await alerts.deliver_due(s, klass.tenant.id, now + timedelta(seconds=1))).notified == 0
        assert await count(session, AlertDelivery, AlertDelivery.delivered_at.is_(None)) == 0


class TestPeriodicJob:
    async def test_scan_through_the_job_queue_flags_and_notifies_within_a_run(
        self, session: AsyncSession, klass: Klass, tmp_path: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        # at INFO, as `scribetree serve` logs by default: the jobs' log lines must not break them (a reserved
        # LogRecord key in `extra` once killed every run that created an alert)
        caplog.set_level(logging.INFO, logger="scribetree")
        await stuck_student(session, klass, clock.utcnow())
        async with db.unit_of_work() as s:
            await jobs.enqueue(s, SCAN_ACTIVITY, idempotency_key="test-scan")
            await jobs.enqueue(s, SCAN_SCHEDULE, idempotency_key="test-schedule")
        ran = await jobs.run_pending()
        await session.commit()
        assert ran >= 4  # two scans, their per-tenant jobs, and the emails
        alert = (await session.execute(select(Alert))).scalar_one()
        assert alert.rule == "stuck"
        assert await count(session, Notification, Notification.kind == "alert") == 2
        mailed = [m for m in mail.list_dev_mail(limit=200) if m["to"] == klass.instructor.email]
        assert any("Stuck" in m["subject"] for m in mailed)

    async def test_scan_fans_out_one_job_per_tenant(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant
    ) -> None:
        course = await create_course(session, other_tenant)
        await create_course_member(session, course, other_tenant, CourseRole.instructor)
        await session.commit()
        async with db.unit_of_work() as s:
            await jobs.enqueue(s, SCAN_ACTIVITY, idempotency_key="test-scan-2")
        await jobs.run_pending()
        await session.commit()

        per_tenant = (
            (await session.execute(select(Job.tenant_id).where(Job.actor == "alerts.evaluate_activity")))
            .scalars()
            .all()
        )
        assert set(per_tenant) >= {klass.tenant.id, other_tenant.id}


class TestFactoryAlert:
    async def test_dedupe_key_is_unique_per_tenant_only(
        self, session: AsyncSession, klass: Klass, other_tenant: Tenant
    ) -> None:
        await create_alert(session, klass.course, klass.student, dedupe_key="same")
        course = await create_course(session, other_tenant)
        student = await create_course_member(session, course, other_tenant, CourseRole.student)
        await create_alert(session, course, student, dedupe_key="same")
        await session.commit()
        assert await count(session, Alert) == 2
