"""The alerts API: who sees what, filters, status changes, settings validation, audit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import Alert, AlertCourseSettings
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import CourseRole
from scribetree.tenancy.models import Role, Tenant
from tests.factories.alerts import create_alert
from tests.factories.courses import create_course, create_course_member
from tests.factories.tenancy import create_member
from tests.writing.conftest import ClientFor, Klass


class TestList:
    async def test_staff_list_filter_and_audit(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        a1 = await create_alert(session, klass.course, klass.student, assignment_id=klass.assignment.id)
        await create_alert(session, klass.course, klass.classmate, rule="large_paste", title="Large paste: 80 words")
        await create_alert(session, klass.course, klass.classmate, status="resolved", title="Old one")
        await session.commit()
        for user in (klass.instructor, klass.ta):
            c = await client_for(user, klass.tenant)
            r = await c.get(f"/api/v1/courses/{klass.course.id}/alerts", params={"status": ["open"]})
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["open_count"] == 2 and len(body["items"]) == 2
        c = await client_for(klass.instructor, klass.tenant)
        r = await c.get(f"/api/v1/courses/{klass.course.id}/alerts", params={"student_user_id": str(klass.student.id)})
        items = r.json()["items"]
        assert [i["id"] for i in items] == [str(a1.id)]
        assert items[0]["student_name"] == "Ada Student" and items[0]["evidence"]["figures"]["active_minutes"] == 25
        r = await c.get(f"/api/v1/courses/{klass.course.id}/alerts", params={"rule": "large_paste"})
        assert [i["title"] for i in r.json()["items"]] == ["Large paste: 80 words"]
        r = await c.get(f"/api/v1/courses/{klass.course.id}/alerts", params={"rule": "nope"})
        assert r.status_code == 422 and r.json()["error"] == "UnknownRule"
        await session.commit()
        audited = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "alerts.listed"))).scalars().all()
        )
        assert len(audited) >= 4

    async def test_students_and_outsiders_get_404(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor, other_tenant: Tenant
    ) -> None:
        alert = await create_alert(session, klass.course, klass.student)
        other_course = await create_course(session, klass.tenant)
        other_teacher = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        intruder, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        for user, tenant in ((klass.student, klass.tenant), (other_teacher, klass.tenant), (intruder, other_tenant)):
            c = await client_for(user, tenant)
            assert (await c.get(f"/api/v1/courses/{klass.course.id}/alerts")).status_code == 404
            assert (await c.get(f"/api/v1/alerts/{alert.id}")).status_code == 404
            r = await c.post(f"/api/v1/alerts/{alert.id}/status", json={"action": "dismiss"})
            assert r.status_code == 404
            assert (await c.get(f"/api/v1/courses/{klass.course.id}/alert-settings")).status_code == 404
        await session.refresh(alert)
        assert alert.status == "open"

    async def test_institution_admin_sees_every_course(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        admin, _ = await create_member(session, klass.tenant, Role.institution_admin)
        await create_alert(session, klass.course, klass.student)
        await session.commit()
        c = await client_for(admin, klass.tenant)
        assert len((await c.get(f"/api/v1/courses/{klass.course.id}/alerts")).json()["items"]) == 1


class TestStatus:
    async def test_acknowledge_resolve_then_conflict(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        alert = await create_alert(session, klass.course, klass.student)
        await session.commit()
        c = await client_for(klass.ta, klass.tenant)
        r = await c.post(f"/api/v1/alerts/{alert.id}/status", json={"action": "acknowledge"})
        assert r.status_code == 200 and r.json()["status"] == "acknowledged" and r.json()["resolved_at"] is None
        r = await c.post(f"/api/v1/alerts/{alert.id}/status", json={"action": "resolve"})
        assert r.json()["status"] == "resolved" and r.json()["resolved_by"] == str(klass.ta.id)
        r = await c.post(f"/api/v1/alerts/{alert.id}/status", json={"action": "dismiss"})
        assert r.status_code == 409 and r.json()["error"] == "AlertStatusConflict"
        r = await c.post(f"/api/v1/alerts/{alert.id}/status", json={"action": "explode"})
        assert r.status_code == 422
        await session.refresh(alert)
        assert alert.status == "resolved"
        g = await c.get(f"/api/v1/alerts/{alert.id}")
        assert g.status_code == 200 and g.json()["url"].endswith(f"#alert-{alert.id}")


class TestSettings:
    async def test_get_defaults_and_put_overrides(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        url = f"/api/v1/courses/{klass.course.id}/alert-settings"
        body = (await c.get(url)).json()
        assert body["editable"] is True and body["thresholds"] == {} and body["muted_rules"] == []
        stuck = next(t for t in body["catalog"] if t["name"] == "stuck_active_minutes")
        assert stuck["default"] == 20 and stuck["value"] == 20
        r = await c.put(url, json={"thresholds": {"stuck_active_minutes": 30}, "muted_rules": ["large_paste"]})
        assert r.status_code == 200, r.text
        stuck = next(t for t in r.json()["catalog"] if t["name"] == "stuck_active_minutes")
        assert stuck["value"] == 30
        assert next(x for x in r.json()["rules"] if x["code"] == "large_paste")["muted"] is True

    async def test_bad_values_are_422_and_store_nothing(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        url = f"/api/v1/courses/{klass.course.id}/alert-settings"
        for payload, code in (
            ({"thresholds": {"made_up": 3}}, "UnknownThreshold"),
            ({"thresholds": {"stuck_active_minutes": 1}}, "ThresholdOutOfRange"),
            ({"thresholds": {"stuck_active_minutes": 20.5}}, "ThresholdOutOfRange"),
            ({"muted_rules": ["nope"]}, "UnknownRule"),
        ):
            r = await c.put(url, json=payload)
            assert r.status_code == 422 and r.json()["error"] == code, (payload, r.text)
            assert "stuck_active_minutes" in r.json()["detail"] or code != "ThresholdOutOfRange"
        assert (await c.put(url, json={"thresholds": "x"})).status_code == 422
        await session.commit()
        assert (await session.execute(select(AlertCourseSettings))).first() is None

    async def test_ta_reads_but_does_not_change_course_settings(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.ta, klass.tenant)
        url = f"/api/v1/courses/{klass.course.id}/alert-settings"
        assert (await c.get(url)).json()["editable"] is False
        r = await c.put(url, json={"muted_rules": ["stuck"]})
        assert r.status_code == 403 and r.json()["error"] == "AlertSettingsReadOnly"
        # but sets their own delivery
        r = await c.put(
            url + "/me",
            json={"delivery": "digest", "quiet_hours": {"start": "22:00", "end": "07:00"}, "timezone": "Europe/Berlin"},
        )
        assert r.status_code == 200, r.text
        mine = r.json()["mine"]
        assert mine == {
            "delivery": "digest",
            "quiet_hours": {"start": "22:00", "end": "07:00"},
            "timezone": "Europe/Berlin",
            "digest_hour": 7,
        }

    async def test_prefs_validation(self, session: AsyncSession, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        url = f"/api/v1/courses/{klass.course.id}/alert-settings/me"
        r = await c.put(url, json={"timezone": "Mars/Olympus"})
        assert r.status_code == 422 and r.json()["error"] == "UnknownTimeZone"
        r = await c.put(url, json={"quiet_hours": {"start": "22:00", "end": "22:00"}})
        assert r.status_code == 422 and r.json()["error"] == "InvalidQuietHours"
        assert (await c.put(url, json={"quiet_hours": {"start": "25:00", "end": "07:00"}})).status_code == 422
        assert (await c.put(url, json={"digest_hour": 24})).status_code == 422
        assert (await c.put(url, json={"delivery": "pigeon"})).status_code == 422
        await session.commit()
        assert (await session.execute(select(Alert))).first() is None
