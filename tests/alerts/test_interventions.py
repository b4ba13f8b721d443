"""Interventions end to end through the API: each kind really acts (the student's notification, the extension's
effect on lateness and reminders, the AI budget the partner enforces), bad input, access and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.budget_models import AiBudgetOverride
from scribetree.alerts.interventions import REMINDER_ACTOR, interventions
from scribetree.alerts.interventions_models import Intervention
from scribetree.alerts.models import Alert, AlertStatus
from scribetree.core import clock
from scribetree.core.audit import AuditEvent
from scribetree.core.jobs_models import Job
from scribetree.courses.extension_models import DeadlineExtension
from scribetree.courses.models import Assignment, CourseRole
from scribetree.writing.notification_models import Notification
from scribetree.writing.notifications import notifications
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import create_member
from tests.factories.writing import create_document, ins
from tests.writing.conftest import ClientFor, Klass, client_for, ctx_for, klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer

__all__ = ["client_for", "ctx_for", "klass"]


def ok(r: httpx.Response, code: int = 200) -> Any:
    assert r.status_code == code, r.text
    return r.json()


async def set_assignment(session: AsyncSession, assignment: Assignment, **values: Any) -> None:
    await session.commit()
    a = await session.get(Assignment, assignment.id)
    assert a is not None
    for k, v in values.items():
        setattr(a, k, v)
    await session.commit()


async def count(session: AsyncSession, model: Any, **where: Any) -> int:
    await session.commit()
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    n = int((await session.execute(stmt)).scalar_one())
    await session.commit()
    return n


async def notes_of(session: AsyncSession, user_id: uuid.UUID) -> list[Notification]:
    await session.commit()
    found = (await session.execute(select(Notification).where(Notification.user_id == user_id))).scalars().all()
    await session.commit()
    return list(found)


async def actions(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    await session.commit()
    stmt = select(AuditEvent.action).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
    found = list((await session.execute(stmt)).scalars().all())
    await session.commit()
    return found


def url(klass: Klass) -> str:
    return f"/api/v1/courses/{klass.course.id}/interventions"


def body(student: uuid.UUID, **intervention: Any) -> dict[str, Any]:
    return {"student_user_id": str(student), "intervention": intervention}


async def make_alert(session: AsyncSession, klass: Klass, status: AlertStatus = AlertStatus.open) -> Alert:
    alert = Alert(
        tenant_id=klass.tenant.id,
        course_id=klass.course.id,
        assignment_id=klass.assignment.id,
        student_user_id=klass.student.id,
        rule="inactive",
        severity="attention",
        title="No writing for 4 days",
        evidence={},
        suggested_actions=["message", "extend_deadline"],
        status=status,
        dedupe_key=f"test:{uuid.uuid4()}",
    )
    session.add(alert)
    await session.commit()
    return alert


class TestMessage:
    async def test_the_student_gets_the_message_in_the_app_and_by_email(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        r = ok(
            await staff.post(
                url(klass),
                json=body(
                    klass.student.id,
                    kind="message",
                    subject="How is it going?",
                    body="<b>Drop by</b> on Friday.",
                    note="first contact",
                ),
            ),
            201,
        )
        assert (r["kind"], r["alert_id"], r["note"]) == ("message", None, "first contact")
        assert r["params"] == {"subject": "How is it going?", "body": "<b>Drop by</b> on Friday."}
        assert r["effect"]["ready"] is False and r["effect"]["summary"].startswith("too early to tell")
        (note,) = await notes_of(session, klass.student.id)
        assert (note.kind, note.body) == ("message", "<b>Drop by</b> on Friday.")
        assert note.title.endswith("How is it going?")
        assert await notes_of(session, klass.classmate.id) == []
        assert await count(session, Job, actor="core.deliver_mail") == 1
        assert "intervention.created" in await actions(session, klass.tenant.id)
        # the student's notification centre shows it, escaped
        page = await (await client_for(klass.student, klass.tenant)).get("/notifications")
        assert page.status_code == 200 and "&lt;b&gt;Drop by&lt;/b&gt;" in page.text and "<b>Drop by" not in page.text

    @pytest.mark.parametrize(
        "payload,error",
        [
            ({"kind": "message", "subject": "", "body": "x"}, "ValidationError"),
            ({"kind": "message", "subject": "s", "body": "x" * 5001}, "ValidationError"),
            ({"kind": "message", "subject": "s", "body": "x", "note": "n" * 2001}, "ValidationError"),
            ({"kind": "shout", "subject": "s", "body": "x"}, "ValidationError"),
            ({"kind": "message", "subject": "s", "body": "x", "extra": 1}, "ValidationError"),
        ],
    )
    async def test_bad_input_is_422_and_nothing_is_stored(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, payload: dict[str, Any], error: str
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(url(klass), json={"student_user_id": str(klass.student.id), "intervention": payload})
        assert r.status_code == 422 and r.json()["error"] == error, r.text
        assert await count(session, Intervention) == 0 and await notes_of(session, klass.student.id) == []


class TestCheckIn:
    async def test_student_is_told_educator_reminded_at_the_time_and_records_the_outcome(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        at = (clock.utcnow() + timedelta(hours=20)).replace(microsecond=0)
        r = ok(
            await staff.post(
                url(klass), json=body(klass.student.id, kind="check_in", at=at.isoformat(), agenda="Plan")
            ),
            201,
        )
        assert r["scheduled_at"].startswith(at.isoformat()[:16])
        (note,) = await notes_of(session, klass.student.id)
        assert note.kind == "check_in" and "Plan" in note.body
        await session.commit()
        job = (await session.execute(select(Job).where(Job.actor == REMINDER_ACTOR))).scalar_one()
        assert clock.as_utc(job.run_at) == at and job.tenant_id == klass.tenant.id
        await session.commit()
        # the job's work at the time: the educator is reminded once, however often it runs
        assert await interventions.remind_check_in(session, klass.tenant.id, uuid.UUID(r["id"])) is True
        assert await interventions.remind_check_in(session, klass.tenant.id, uuid.UUID(r["id"])) is False
        await session.commit()
        (reminder,) = await notes_of(session, klass.instructor.id)
        assert reminder.kind == "check_in" and "Ada Student" in reminder.title
        assert reminder.link == f"/courses/{klass.course.id}/interventions#intervention-{r['id']}"

        done = ok(
            await staff.patch(f"/api/v1/interventions/{r['id']}", json={"outcome": "helped", "outcome_note": "Met."})
        )
        assert (done["outcome"], done["outcome_note"]) == ("helped", "Met.") and done["outcome_at"]
        bad = await staff.patch(f"/api/v1/interventions/{r['id']}", json={"outcome": "great"})
        assert bad.status_code == 422
        assert ok(await staff.get(f"/api/v1/interventions/{r['id']}"))["outcome"] == "helped"
        acts = await actions(session, klass.tenant.id)
        assert "intervention.outcome_recorded" in acts and "intervention.viewed" in acts

    @pytest.mark.parametrize("delta", [timedelta(hours=-1), timedelta(days=91)])
    async def test_a_time_in_the_past_or_too_far_ahead_is_refused(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, delta: timedelta
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        at = clock.utcnow() + delta
        r = await staff.post(url(klass), json=body(klass.student.id, kind="check_in", at=at.isoformat()))
        assert r.status_code == 422 and r.json()["error"] == "CheckInTimeInvalid", r.text
        assert await count(session, Intervention) == 0 and await count(session, Job, actor=REMINDER_ACTOR) == 0


class TestExtendDeadline:
    async def test_the_extension_turns_a_refused_late_submission_into_an_on_time_one(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await set_assignment(
            session, klass.assignment, due_at=clock.utcnow() - timedelta(hours=1), late_policy="reject"
        )
        student = await client_for(klass.student, klass.tenant)
        w = Writer(student, await open_doc(student, klass.assignment.id))
        await w.send([ins(0, "My essay.")])
        r = await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
        assert r.status_code == 409 and r.json()["error"] == "SubmissionClosed"

        staff = await client_for(klass.instructor, klass.tenant)
        due = clock.utcnow() + timedelta(days=2)
        r = ok(
            await staff.post(
                url(klass),
                json=body(
                    klass.student.id,
                    kind="extend_deadline",
                    assignment_id=str(klass.assignment.id),
                    due_at=due.isoformat(),
                ),
            ),
            201,
        )
        assert r["assignment_id"] == str(klass.assignment.id)
        page = await student.get(f"/assignments/{klass.assignment.id}/write")
        assert page.status_code == 200
        assert f'datetime="{clock.as_utc(due).isoformat()}"' in page.text and "extended for you" in page.text
        assert "does not accept late work" not in page.text
        mate_page = await (await client_for(klass.classmate, klass.tenant)).get(
            f"/assignments/{klass.assignment.id}/write"
        )
        assert "extended for you" not in mate_page.text and "does not accept late work" in mate_page.text
        sub = ok(await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision}), 201)
        assert sub["late"] is False
        # the classmate has no extension: still refused
        mate = await client_for(klass.classmate, klass.tenant)
        m = Writer(mate, await open_doc(mate, klass.assignment.id))
        await m.send([ins(0, "Mine.")])
        r = await mate.post(f"/api/v1/documents/{m.id}/submit", json={"revision": m.revision})
        assert r.status_code == 409 and r.json()["error"] == "SubmissionClosed"
        (note,) = [n for n in await notes_of(session, klass.student.id) if n.kind == "message"]
        assert note.title.startswith("New due date") and note.link == f"/assignments/{klass.assignment.id}/write"
        assert "deadline.extended" in await actions(session, klass.tenant.id)

    async def test_lateness_flips_at_the_extended_time(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() - timedelta(hours=1))
        staff = await client_for(klass.instructor, klass.tenant)
        for who in (klass.student, klass.classmate):
            due = clock.utcnow() + timedelta(days=1)
            ok(
                await staff.post(
                    url(klass),
                    json=body(
                        who.id, kind="extend_deadline", assignment_id=str(klass.assignment.id), due_at=due.isoformat()
                    ),
                ),
                201,
            )
        student = await client_for(klass.student, klass.tenant)
        mate = await client_for(klass.classmate, klass.tenant)
        ws = [Writer(c, await open_doc(c, klass.assignment.id)) for c in (student, mate)]
        for w in ws:
            await w.send([ins(0, "Words.")])
        with clock.travel(timedelta(hours=23)):  # an hour before the extended due date (a fresh sign-in)
            c = await client_for(klass.student, klass.tenant)
            sub = ok(await c.post(f"/api/v1/documents/{ws[0].id}/submit", json={"revision": ws[0].revision}), 201)
        with clock.travel(timedelta(hours=25)):  # an hour after it
            c = await client_for(klass.classmate, klass.tenant)
            late = ok(await c.post(f"/api/v1/documents/{ws[1].id}/submit", json={"revision": ws[1].revision}), 201)
        assert (sub["late"], late["late"]) == (False, True)

    async def test_due_soon_reminders_follow_the_extended_date(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() + timedelta(hours=24))
        staff = await client_for(klass.instructor, klass.tenant)
        due = clock.utcnow() + timedelta(days=5)
        ok(
            await staff.post(
                url(klass),
                json=body(
                    klass.student.id,
                    kind="extend_deadline",
                    assignment_id=str(klass.assignment.id),
                    due_at=due.isoformat(),
                ),
            ),
            201,
        )
        result = await notifications.notify_due_soon(session, klass.tenant.id)
        await session.commit()
        assert result.notified == 1  # the classmate only
        assert [n.kind for n in await notes_of(session, klass.classmate.id)] == ["due_soon"]
        assert [n.kind for n in await notes_of(session, klass.student.id)] == ["message"]
        with clock.travel(timedelta(days=4)):  # the extended date is a day away now
            result = await notifications.notify_due_soon(session, klass.tenant.id)
            await session.commit()
            again = await notifications.notify_due_soon(session, klass.tenant.id)
            await session.commit()
        assert (result.notified, again.notified) == (1, 0)
        (due_note,) = [n for n in await notes_of(session, klass.student.id) if n.kind == "due_soon"]
        assert f"{due:%d %b %Y, %H:%M} UTC" in due_note.body

    @pytest.mark.parametrize(
        "case,error",
        [
            ("past", "ExtensionInvalid"),
            ("before_current", "ExtensionInvalid"),
            ("unknown_stage", "UnknownStageForExtension"),
            ("other_course", "AssignmentNotInCourse"),
        ],
    )
    async def test_bad_extensions_are_422_and_nothing_changes(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, case: str, error: str
    ) -> None:
        await set_assignment(session, klass.assignment, due_at=clock.utcnow() + timedelta(days=5))
        assignment_id = klass.assignment.id
        due = clock.utcnow() + timedelta(days=7)
        extra: dict[str, Any] = {}
        if case == "past":
            due = clock.utcnow() - timedelta(minutes=1)
        elif case == "before_current":
            due = clock.utcnow() + timedelta(days=2)
        elif case == "unknown_stage":
            extra = {"stage": "nonsense"}
        else:
            other = await create_assignment(session, await create_course(session, klass.tenant))
            await session.commit()
            assignment_id = other.id
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(
            url(klass),
            json=body(
                klass.student.id,
                kind="extend_deadline",
                assignment_id=str(assignment_id),
                due_at=due.isoformat(),
                **extra,
            ),
        )
        assert r.status_code == 422 and r.json()["error"] == error, r.text
        assert await count(session, DeadlineExtension) == 0 and await count(session, Intervention) == 0
        assert await notes_of(session, klass.student.id) == []

    async def test_a_stage_extension_must_be_after_the_stage_due_date(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        stages = [dict(s) for s in klass.assignment.stages]
        key = stages[0]["key"]
        stages[0]["due_at"] = (clock.utcnow() + timedelta(days=3)).isoformat()
        await set_assignment(session, klass.assignment, stages=stages)
        staff = await client_for(klass.instructor, klass.tenant)

        def ext(days: int) -> dict[str, Any]:
            due = (clock.utcnow() + timedelta(days=days)).isoformat()
            return body(
                klass.student.id, kind="extend_deadline", assignment_id=str(klass.assignment.id), due_at=due, stage=key
            )

        r = await staff.post(url(klass), json=ext(2))
        assert r.status_code == 422 and r.json()["error"] == "ExtensionInvalid"
        assert ok(await staff.post(url(klass), json=ext(4)), 201)["params"]["stage"] == key
        assert await count(session, DeadlineExtension, stage_key=key) == 1


class TestAiBudget:
    async def test_the_partner_allows_and_refuses_by_the_students_budget(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        await set_assignment(
            session,
            klass.assignment,
            ai_settings={"reflection_required": False, "budget_per_hour": 1, "budget_per_day": 1},
        )
        doc = await create_document(session, klass.assignment, owner=klass.student, text="Sleep matters for school.")
        await session.commit()
        student = await client_for(klass.student, klass.tenant)
        ask = f"/api/v1/documents/{doc.id}/partner"
        q = {"question": "Which sentence is weakest?"}
        ok(await student.post(ask, json=q))
        assert (await student.post(ask, json=q)).status_code == 429

        staff = await client_for(klass.instructor, klass.tenant)

        def budget(per_hour: int, per_day: int) -> dict[str, Any]:
            return body(
                klass.student.id,
                kind="adjust_ai_budget",
                assignment_id=str(klass.assignment.id),
                budget_per_hour=per_hour,
                budget_per_day=per_day,
            )

        r = ok(await staff.post(url(klass), json=budget(5, 10)), 201)
        assert r["params"]["budget_per_hour"] == 5
        ok(await student.post(ask, json=q))  # allowed again: 1 used of 5 an hour
        # the classmate keeps the assignment's budget
        mate_doc = await create_document(session, klass.assignment, owner=klass.classmate, text="My text here.")
        await session.commit()
        mate = await client_for(klass.classmate, klass.tenant)
        ok(await mate.post(f"/api/v1/documents/{mate_doc.id}/partner", json=q))
        assert (await mate.post(f"/api/v1/documents/{mate_doc.id}/partner", json=q)).status_code == 429

        ok(await staff.post(url(klass), json=budget(0, 0)), 201)
        r = await student.post(ask, json=q)
        assert r.status_code == 409 and r.json()["error"] == "PartnerDisabled", r.text
        assert await count(session, AiBudgetOverride) == 1
        assert "ai_partner.budget_overridden" in await actions(session, klass.tenant.id)

    @pytest.mark.parametrize(
        "per_hour,per_day,error",
        [
            (5, 2, "BudgetInvalid"),
            (101, 200, "ValidationError"),
            (-1, 2, "ValidationError"),
            (1, 501, "ValidationError"),
        ],
    )
    async def test_out_of_bounds_budgets_are_422(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, per_hour: int, per_day: int, error: str
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        r = await staff.post(
            url(klass),
            json=body(
                klass.student.id,
                kind="adjust_ai_budget",
                assignment_id=str(klass.assignment.id),
                budget_per_hour=per_hour,
                budget_per_day=per_day,
            ),
        )
        assert r.status_code == 422 and r.json()["error"] == error, r.text
        assert await count(session, AiBudgetOverride) == 0 and await count(session, Intervention) == 0


class TestFromAlert:
    async def test_acting_on_an_alert_acknowledges_it(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        alert = await make_alert(session, klass)
        ta = await client_for(klass.ta, klass.tenant)
        r = ok(
            await ta.post(
                f"/api/v1/alerts/{alert.id}/interventions",
                json={"kind": "message", "subject": "Hi", "body": "Need help?"},
            ),
            201,
        )
        assert (r["alert_id"], r["student_user_id"]) == (str(alert.id), str(klass.student.id))
        await session.commit()
        await session.refresh(alert)
        assert alert.status == AlertStatus.acknowledged
        await session.commit()

    async def test_a_dismissed_alert_is_409_and_a_strangers_alert_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession
    ) -> None:
        dismissed = await make_alert(session, klass, AlertStatus.dismissed)
        staff = await client_for(klass.instructor, klass.tenant)
        msg = {"kind": "message", "subject": "Hi", "body": "Need help?"}
        r = await staff.post(f"/api/v1/alerts/{dismissed.id}/interventions", json=msg)
        assert r.status_code == 409 and r.json()["error"] == "AlertClosed"
        alert = await make_alert(session, klass)
        other_course = await create_course(session, klass.tenant)
        stranger = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        await session.commit()
        for user in (stranger, klass.student):
            c = await client_for(user, klass.tenant)
            r = await c.post(f"/api/v1/alerts/{alert.id}/interventions", json=msg)
            assert r.status_code == 404 and r.json()["error"] == "AlertNotFound", r.text
        assert await count(session, Intervention) == 0


class TestAccess:
    async def test_students_other_staff_and_other_tenants_get_404(
        self, klass: Klass, client_for: ClientFor, session: AsyncSession, other_tenant: Any
    ) -> None:
        staff = await client_for(klass.instructor, klass.tenant)
        iv = ok(await staff.post(url(klass), json=body(klass.student.id, kind="message", subject="s", body="b")), 201)
        other_course = await create_course(session, klass.tenant)
        stranger = await create_course_member(session, other_course, klass.tenant, CourseRole.instructor)
        outsider, _ = await create_member(session, other_tenant, "institution_admin")
        await session.commit()
        callers = [
            await client_for(klass.student, klass.tenant),
            await client_for(stranger, klass.tenant),
            await client_for(outsider, other_tenant),
        ]
        for c in callers:
            assert (await c.get(url(klass))).status_code == 404
            assert (await c.get(f"/api/v1/interventions/{iv['id']}")).status_code == 404
            r = await c.patch(f"/api/v1/interventions/{iv['id']}", json={"outcome": "helped"})
            assert r.status_code == 404
            r = await c.post(url(klass), json=body(klass.student.id, kind="message", subject="s", body="b"))
            assert r.status_code == 404
        assert await count(session, Intervention) == 1
        # a student of another course (or a staff member) is not a target
        r = await staff.post(url(klass), json=body(stranger.id, kind="message", subject="s", body="b"))
        assert r.status_code == 404 and r.json()["error"] == "InterventionStudentNotFound"
        # the course's TA sees the list
        listing = ok(await (await client_for(klass.ta, klass.tenant)).get(url(klass)))
        assert [i["id"] for i in listing["items"]] == [iv["id"]]
