"""Alert pages: the centre lists alerts with evidence, action links and status forms (student text escaped); the
settings page saves thresholds, mutes and delivery, and shows errors without storing anything."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.models import Alert, AlertCourseSettings, AlertEducatorPrefs
from tests.factories.alerts import create_alert
from tests.writing.conftest import ClientFor, Klass


class TestCentre:
    async def test_lists_evidence_actions_and_escapes(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        klass.student.display_name = "<b>Ada</b>"
        alert = await create_alert(
            session,
            klass.course,
            klass.student,
            evidence={
                "figures": {"active_minutes": 25},
                "links": [{"label": "Open the document", "url": "/documents/x/review"}],
            },
        )
        await create_alert(session, klass.course, klass.classmate, status="resolved", title="Long gone")
        await session.commit()
        c = await client_for(klass.instructor, klass.tenant)
        r = await c.get(f"/courses/{klass.course.id}/alerts")
        assert r.status_code == 200, r.text
        assert f'id="alert-{alert.id}"' in r.text and "Active minutes" in r.text and "25" in r.text
        assert f'href="/alerts/{alert.id}/intervene?action=message"' in r.text
        assert f'href="/alerts/{alert.id}/intervene?action=check_in"' in r.text
        assert "&lt;b&gt;Ada&lt;/b&gt;" in r.text and "<b>Ada</b>" not in r.text
        assert "Long gone" not in r.text
        closed = await c.get(f"/courses/{klass.course.id}/alerts?view=closed")
        assert "Long gone" in closed.text and f'id="alert-{alert.id}"' not in closed.text
        r = await c.post(f"/alerts/{alert.id}/status", data={"action": "resolve"})
        assert r.status_code == 303 and r.headers["location"] == f"/courses/{klass.course.id}/alerts"
        await session.refresh(alert)
        assert alert.status == "resolved" and alert.resolved_by == klass.instructor.id

    async def test_students_get_404(self, session: AsyncSession, klass: Klass, client_for: ClientFor) -> None:
        alert = await create_alert(session, klass.course, klass.student)
        await session.commit()
        c = await client_for(klass.student, klass.tenant)
        assert (await c.get(f"/courses/{klass.course.id}/alerts")).status_code == 404
        assert (await c.get(f"/courses/{klass.course.id}/alerts/settings")).status_code == 404
        assert (await c.post(f"/alerts/{alert.id}/status", data={"action": "dismiss"})).status_code == 404
        await session.refresh(alert)
        assert alert.status == "open"


class TestSettingsPage:
    async def test_save_thresholds_mutes_and_delivery(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        url = f"/courses/{klass.course.id}/alerts/settings"
        page = await c.get(url)
        assert (
            page.status_code == 200
            and 'for="a-t-stuck_active_minutes"' in page.text
            and 'for="mute-stuck"' in page.text
        )
        r = await c.post(
            url, data={"t-stuck_active_minutes": "30", "t-paste_min_words": "50", "muted": ["breakthrough"]}
        )
        assert r.status_code == 303, r.text
        await session.commit()
        stored = (await session.execute(select(AlertCourseSettings))).scalar_one()
        assert stored.thresholds == {"stuck_active_minutes": 30} and stored.muted_rules == ["breakthrough"]
        r = await c.post(
            url + "/me",
            data={
                "delivery": "digest",
                "timezone": "Europe/Berlin",
                "digest_hour": "8",
                "quiet_start": "22:00",
                "quiet_end": "07:00",
            },
        )
        assert r.status_code == 303, r.text
        await session.commit()
        prefs = (await session.execute(select(AlertEducatorPrefs))).scalar_one()
        assert (prefs.delivery, prefs.timezone, prefs.digest_hour, prefs.quiet_start_min, prefs.quiet_end_min) == (
            "digest",
            "Europe/Berlin",
            8,
            1320,
            420,
        )

    async def test_errors_shown_and_nothing_stored(
        self, session: AsyncSession, klass: Klass, client_for: ClientFor
    ) -> None:
        c = await client_for(klass.instructor, klass.tenant)
        url = f"/courses/{klass.course.id}/alerts/settings"
        r = await c.post(url, data={"t-stuck_active_minutes": "2"})
        assert r.status_code == 422 and "between 5 and 240" in r.text and 'aria-invalid="true"' in r.text
        r = await c.post(url, data={"t-stuck_active_minutes": "lots"})
        assert r.status_code == 422 and "enter a number" in r.text
        r = await c.post(
            url + "/me", data={"delivery": "immediate", "timezone": "Nowhere/Atlantis", "digest_hour": "7"}
        )
        assert r.status_code == 422 and "Unknown time zone" in r.text
        r = await c.post(
            url + "/me", data={"delivery": "immediate", "timezone": "UTC", "digest_hour": "7", "quiet_start": "22:00"}
        )
        assert r.status_code == 422 and "quiet hours" in r.text
        ta = await client_for(klass.ta, klass.tenant)
        r = await ta.post(url, data={"muted": ["stuck"]})
        assert r.status_code == 403
        await session.commit()
        assert (await session.execute(select(AlertCourseSettings))).first() is None
        assert (await session.execute(select(AlertEducatorPrefs))).first() is None
        assert (await session.execute(select(Alert))).first() is None
