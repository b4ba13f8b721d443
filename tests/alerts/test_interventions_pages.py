"""Intervention pages: the intervene form per action (from an alert and from a student's row), its errors, and the
course's list with the effect per kind and the outcome form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.interventions_models import Intervention
from scribetree.alerts.models import AlertStatus
from scribetree.core import clock
from scribetree.courses.extension_models import DeadlineExtension
from tests.alerts.test_interventions import make_alert
from tests.writing.conftest import ClientFor, Klass, client_for, ctx_for, klass

__all__ = ["client_for", "ctx_for", "klass"]


async def count(session: AsyncSession, model: type) -> int:
    await session.commit()
    n = int((await session.execute(select(func.count()).select_from(model))).scalar_one())
    await session.commit()
    return n


class TestIntervenePage:
    async def test_each_action_has_its_labelled_form_and_strangers_get_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        alert = await make_alert(session, klass)
        staff = await client_for(klass.instructor, klass.tenant)
        expected = {
            "message": ['for="f-subject"', 'for="f-body"'],
            "check_in": ['for="f-at"', "Date and time (UTC)"],
            "extend_deadline": ['for="f-due_at"', klass.assignment.title],
            "adjust_ai_budget": ['for="f-budget_per_hour"', 'for="f-budget_per_day"'],
        }
        for action, needles in expected.items():
            r = await staff.get(f"/alerts/{alert.id}/intervene?action={action}")
            assert r.status_code == 200, r.text
            assert 'aria-current="page"' in r.text and "Act for Ada Student" in r.text
            for needle in needles:
                assert needle in r.text, (action, needle)
        course_page = await staff.get(f"/courses/{klass.course.id}")
        assert f'href="/courses/{klass.course.id}/students/{klass.student.id}/intervene"' in course_page.text
        assert f'href="/courses/{klass.course.id}/interventions"' in course_page.text
        row = await staff.get(f"/courses/{klass.course.id}/students/{klass.student.id}/intervene?action=message")
        assert row.status_code == 200 and "From the student list" in row.text
        student = await client_for(klass.student, klass.tenant)
        assert (await student.get(f"/alerts/{alert.id}/intervene")).status_code == 404
        assert (await student.get(f"/courses/{klass.course.id}/interventions")).status_code == 404
        # a staff member is not a student to act on
        r = await staff.get(f"/courses/{klass.course.id}/students/{klass.ta.id}/intervene")
        assert r.status_code == 404

    async def test_errors_are_shown_with_the_form_and_nothing_is_stored(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        alert = await make_alert(session, klass)
        staff = await client_for(klass.instructor, klass.tenant)
        past = (clock.utcnow() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        r = await staff.post(
            f"/alerts/{alert.id}/intervene",
            data={"action": "extend_deadline", "assignment_id": str(klass.assignment.id), "due_at": past},
        )
        assert r.status_code == 422 and "error-summary" in r.text and "not in the future" in r.text
        assert 'aria-invalid="true"' in r.text
        r = await staff.post(
            f"/alerts/{alert.id}/intervene",
            data={"action": "adjust_ai_budget", "assignment_id": str(klass.assignment.id), "budget_per_hour": "500"},
        )
        assert r.status_code == 422 and "Requests per hour" in r.text
        assert await count(session, DeadlineExtension) == 0 and await count(session, Intervention) == 0
        await session.refresh(alert)
        assert alert.status == AlertStatus.open
        await session.commit()

    async def test_acting_then_the_list_then_the_outcome(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        alert = await make_alert(session, klass)
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(
            f"/alerts/{alert.id}/intervene",
            data={"action": "message", "subject": "<script>alert(1)</script>", "body": "Come see me.", "note": "n"},
        )
        assert r.status_code == 303 and r.headers["location"] == f"/courses/{klass.course.id}/interventions"
        page = await staff.get(f"/courses/{klass.course.id}/interventions")
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text
        assert "Ada Student" in page.text and "too early to tell" in page.text
        assert "Intervention effectiveness" in page.text and "<svg" in page.text
        iv_id = (await session.execute(select(Intervention.id))).scalar_one()
        await session.commit()
        r = await staff.post(f"/interventions/{iv_id}/outcome", data={"outcome": "no_change", "outcome_note": "Quiet."})
        assert r.status_code == 303 and r.headers["location"].endswith(f"#intervention-{iv_id}")
        bad = await staff.post(f"/interventions/{iv_id}/outcome", data={"outcome": "bogus"})
        assert bad.status_code == 303
        row = await session.get(Intervention, iv_id)
        assert row is not None and (row.outcome, row.outcome_note) == ("no_change", "Quiet.")
        await session.commit()
        page = await staff.get(f"/courses/{klass.course.id}/interventions")
        assert '<option value="no_change" selected>' in page.text

    async def test_the_list_shows_every_kind(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        soon = clock.utcnow() + timedelta(days=2)
        key = klass.assignment.stages[0]["key"]
        kinds = [
            {"kind": "message", "subject": "Hello", "body": "b"},
            {"kind": "check_in", "at": soon.isoformat(), "agenda": "Plan"},
            {"kind": "extend_deadline", "assignment_id": str(klass.assignment.id), "due_at": soon.isoformat()},
            {
                "kind": "extend_deadline",
                "assignment_id": str(klass.assignment.id),
                "due_at": soon.isoformat(),
                "stage": key,
            },
            {
                "kind": "adjust_ai_budget",
                "assignment_id": str(klass.assignment.id),
                "budget_per_hour": 3,
                "budget_per_day": 9,
            },
        ]
        for intervention in kinds:
            r = await staff.post(
                f"/api/v1/courses/{klass.course.id}/interventions",
                json={"student_user_id": str(klass.student.id), "intervention": intervention},
            )
            assert r.status_code == 201, r.text
        page = await staff.get(f"/courses/{klass.course.id}/interventions")
        assert page.status_code == 200, page.text
        for needle in ("“Hello”", "Check-in at", "New due date", f"(stage {key})", "AI budget 3/hour, 9/day"):
            assert needle in page.text, needle
