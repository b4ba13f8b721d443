"""Integrity flags raise one ``process_flags`` alert per submission through the alerts machinery: the report job,
then the alerts' activity evaluation, then delivery to the course's staff (docs/alerts.md)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.integrity_rule import RULE
from scribetree.alerts.models import Alert
from scribetree.alerts.tasks import SCAN_ACTIVITY
from scribetree.core import db, jobs
from scribetree.courses.models import CourseRole
from scribetree.integrity.models import IntegrityReport
from scribetree.tenancy.models import Tenant
from scribetree.writing.notification_models import Notification
from tests.alerts.test_service import count
from tests.factories.courses import create_course, create_course_member
from tests.integrity.evidence_helpers import write_and_submit
from tests.integrity.test_integrity_api import pasted_essay, typed
from tests.writing.conftest import ClientFor, Klass


async def run_alert_jobs() -> None:
    """The report job (enqueued by the submission), then one alerts scan and its per-tenant evaluation."""
    await jobs.run_pending()
    async with db.unit_of_work() as s:
        await jobs.enqueue(s, SCAN_ACTIVITY, idempotency_key=f"test-scan-{uuid.uuid4()}")
    await jobs.run_pending()


async def flag_alerts(session: AsyncSession) -> list[Alert]:
    await session.rollback()
    return list((await session.scalars(select(Alert).where(Alert.rule == RULE))).all())


class TestProcessFlagsAlert:
    async def test_pasted_essay_raises_one_alert_with_the_flags_delivered_to_staff(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, other_tenant: Tenant
    ) -> None:
        ids = {k: getattr(klass, k).id for k in ("tenant", "course", "instructor", "ta", "student", "assignment")}
        other_id = other_tenant.id
        student = await client_for(klass.student, klass.tenant)
        staff = await client_for(klass.instructor, klass.tenant)
        other_course = await create_course(session, other_tenant)
        await create_course_member(session, other_course, other_tenant, CourseRole.instructor)
        await session.commit()
        w, sid = await write_and_submit(student, ids["assignment"], pasted_essay())
        await run_alert_jobs()

        (alert,) = await flag_alerts(session)
        report = (await session.scalars(select(IntegrityReport))).one()
        assert len(report.flag_codes) >= 2
        assert alert.tenant_id == ids["tenant"] and alert.course_id == ids["course"]
        assert alert.student_user_id == ids["student"] and alert.assignment_id == ids["assignment"]
        assert str(alert.severity) == "attention" and alert.positive is False
        n = len(report.flag_codes)
        assert alert.title == f"The writing process of this submission has {n} flags to look at"
        assert set(alert.suggested_actions) == {"message", "check_in"}
        ev = alert.evidence
        assert [f["code"] for f in ev["flags"]] == report.flag_codes
        by_code = {f["code"]: f for f in report.report["flags"]}
        for f in ev["flags"]:
            assert f["title"] == by_code[f["code"]]["title"]
            assert f["measured"] == by_code[f["code"]]["measured"]
            assert f["threshold"] == by_code[f["code"]]["threshold"]
        urls = {link["url"] for link in ev["links"]}
        assert urls == {f"/submissions/{sid}/integrity", f"/documents/{w.id}/replay", f"/submissions/{sid}/similarity"}
        # delivered like every alert: one notification per staff member, none to the student
        notes = (await session.scalars(select(Notification).where(Notification.key == f"alert:{alert.id}"))).all()
        assert {x.user_id for x in notes} == {ids["instructor"], ids["ta"]}
        assert await count(session, Notification, Notification.user_id == ids["student"]) == 0
        # the student cannot list the course's alerts
        assert (await student.get(f"/api/v1/courses/{ids['course']}/alerts")).status_code == 404
        listed = (await staff.get(f"/api/v1/courses/{ids['course']}/alerts", params={"rule": RULE})).json()
        assert [a["id"] for a in listed["items"]] == [str(alert.id)]
        # re-running adds nothing (watermark overlap and dedupe key)
        alert_id = alert.id
        await run_alert_jobs()
        assert len(await flag_alerts(session)) == 1
        assert await count(session, Notification, Notification.key == f"alert:{alert_id}") == 2
        # the other tenant is untouched
        assert await count(session, Alert, Alert.tenant_id == other_id) == 0

    async def test_authentic_history_raises_none(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        student = await client_for(klass.student, klass.tenant)
        await write_and_submit(student, klass.assignment.id, typed("Plain words typed here. " * 3))
        await run_alert_jobs()
        assert await flag_alerts(session) == []
        report = (await session.scalars(select(IntegrityReport))).one()
        assert report.flag_codes == []

    async def test_muted_rule_raises_none(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.put(
            f"/api/v1/courses/{klass.course.id}/alert-settings", json={"thresholds": {}, "muted_rules": [RULE]}
        )
        assert r.status_code == 200, r.text
        assert any(x["code"] == RULE and x["muted"] for x in r.json()["rules"])
        student = await client_for(klass.student, klass.tenant)
        await write_and_submit(student, klass.assignment.id, pasted_essay())
        await run_alert_jobs()
        assert await flag_alerts(session) == []
        report = (await session.scalars(select(IntegrityReport))).one()
        assert report.flag_codes  # flagged, yet the muted course gets no alert
