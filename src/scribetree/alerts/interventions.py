"""Interventions: what an educator does for a student, from an alert or from the student's row, and its effect.

Four kinds, each recorded with who, when, its parameters, the alert it came from and the educator's note, and
written to the audit trail:

- ``message``: an in-app notification (``writing.notifications``, kind ``message``) and an email (job queue);
- ``check_in``: the student is told the time; a job reminds the educator at that time (in the app and by email);
  the educator records how it went as the outcome;
- ``extend_deadline``: a per-student due date (``courses.extensions``) that writing's lateness and reminders honour;
- ``adjust_ai_budget``: a per-student AI request budget (``ai_partner.budget``) that the partner enforces.

Acting on an alert moves it from ``open`` to ``acknowledged``. Staff of the course only (instructor, TA,
institution admin); anything else is the same 404 as a missing object. The effect on the student's activity is
computed on read (``interventions_effect``). Services never commit (STYLE T2).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.budget import budget_overrides
from scribetree.alerts import interventions_effect as effect
from scribetree.alerts.exceptions import AlertCourseNotFound, AlertNotFound
from scribetree.alerts.interventions_exceptions import (
    AlertClosed,
    AssignmentNotInCourse,
    CheckInTimeInvalid,
    InterventionNotFound,
    InterventionStudentNotFound,
)
from scribetree.alerts.interventions_models import Intervention, InterventionKind, InterventionOutcome
from scribetree.alerts.interventions_repository import InterventionRepository
from scribetree.alerts.interventions_schemas import (
    AdjustAiBudgetCreate,
    CheckInCreate,
    CourseInterventions,
    EffectRead,
    ExtendDeadlineCreate,
    InterventionCreate,
    InterventionRead,
    KindEffectRead,
    MessageCreate,
    OutcomeUpdate,
)
from scribetree.alerts.models import Alert, AlertStatus
from scribetree.core import audit, clock, jobs
from scribetree.core.mail import send_mail
from scribetree.courses.exceptions import CourseNotFound
from scribetree.courses.extensions import extensions
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course_access
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import tenant_base_url, tenant_service
from scribetree.writing.notification_models import NotificationKind
from scribetree.writing.notifications import notifications

STAFF = ("instructor", "ta", "admin")
CHECK_IN_HORIZON = timedelta(days=90)
REMINDER_ACTOR = "alerts.check_in_reminder"
CLOSED = (AlertStatus.resolved, AlertStatus.dismissed)


def _tenant(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None:
        raise InterventionNotFound()
    return ctx.tenant_id


def _entry(ctx: AuthContext, action: str, iv: Intervention, **details: Any) -> audit.Entry:
    return audit.Entry(
        action=action,
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        meta=ctx.meta,
        target_type="intervention",
        target_id=str(iv.id),
        details={"student_user_id": str(iv.student_user_id), "course_id": str(iv.course_id), **details},
    )


def _when(at: Any) -> str:
    return clock.as_utc(at).strftime("%d %b %Y, %H:%M UTC")


@dataclass(frozen=True)
class Target:
    """Who an intervention is for and what it can act on (for the intervene page)."""

    course_id: uuid.UUID
    course_title: str
    student_user_id: uuid.UUID
    student_name: str
    alert: Alert | None
    assignments: list[Any]  # the course's assignments (ORM rows), for extensions and AI budgets


class InterventionService:
    async def target(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        *,
        alert_id: uuid.UUID | None = None,
        course_id: uuid.UUID | None = None,
        student_user_id: uuid.UUID | None = None,
    ) -> Target:
        """The alert's (or the course's student's) target, for staff of the course; else the same 404 as missing."""
        repo = InterventionRepository(session, _tenant(ctx))
        alert = None
        if alert_id is not None:
            alert = await repo.alert(alert_id)
            if alert is None or not await self._staff(session, ctx, alert.course_id):
                raise AlertNotFound()
            course_id, student_user_id = alert.course_id, alert.student_user_id
        assert course_id is not None and student_user_id is not None
        if not await self._staff(session, ctx, course_id) or not await extensions.is_student(
            session, _tenant(ctx), course_id, student_user_id
        ):
            raise InterventionStudentNotFound()
        course = (await course_access(session, ctx, course_id)).course
        student = (await identity.users_by_ids(session, [student_user_id])).get(student_user_id)
        return Target(
            course_id=course_id,
            course_title=course.title,
            student_user_id=student_user_id,
            student_name=student.display_name if student else "(removed)",
            alert=alert,
            assignments=await assignment_service.list_for_course(session, ctx, course_id),
        )

    # ---- access ---------------------------------------------------------------------------------------------

    async def _staff(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> bool:
        """Whether the caller teaches the course (instructor, TA, institution admin)."""
        try:
            acc = await course_access(session, ctx, course_id)
        except CourseNotFound:
            return False
        return acc.course_role in STAFF

    async def _get(self, session: AsyncSession, ctx: AuthContext, intervention_id: uuid.UUID) -> Intervention:
        iv = await InterventionRepository(session, _tenant(ctx)).get(intervention_id)
        if iv is None or not await self._staff(session, ctx, iv.course_id):
            raise InterventionNotFound()
        return iv

    # ---- creating -------------------------------------------------------------------------------------------

    async def from_alert(
        self, session: AsyncSession, ctx: AuthContext, alert_id: uuid.UUID, data: InterventionCreate
    ) -> InterventionRead:
        """Act on an alert: the intervention is for the alert's student and course; the alert is acknowledged."""
        repo = InterventionRepository(session, _tenant(ctx))
        alert = await repo.alert(alert_id, for_update=True)
        if alert is None or not await self._staff(session, ctx, alert.course_id):
            raise AlertNotFound()
        if alert.status in CLOSED:
            raise AlertClosed()
        iv = await self._create(session, ctx, alert.course_id, alert.student_user_id, data, alert=alert)
        if alert.status == AlertStatus.open:
            alert.status = AlertStatus.acknowledged
            await session.flush()
        return (await self._reads(session, [iv]))[0]

    async def for_student(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        student_user_id: uuid.UUID,
        data: InterventionCreate,
    ) -> InterventionRead:
        """Act on a student from the course's student list, without an alert."""
        if not await self._staff(session, ctx, course_id):
            raise InterventionStudentNotFound()
        iv = await self._create(session, ctx, course_id, student_user_id, data)
        return (await self._reads(session, [iv]))[0]

    async def _create(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        student_id: uuid.UUID,
        data: InterventionCreate,
        *,
        alert: Alert | None = None,
    ) -> Intervention:
        tenant_id = _tenant(ctx)
        repo = InterventionRepository(session, tenant_id)
        if not await extensions.is_student(session, tenant_id, course_id, student_id):
            raise InterventionStudentNotFound()
        now = clock.utcnow()
        iv = Intervention(
            tenant_id=tenant_id,
            course_id=course_id,
            student_user_id=student_id,
            alert_id=alert.id if alert else None,
            kind=InterventionKind(data.kind),
            note=data.note.strip(),
            created_by=ctx.user_id,
            created_at=now,
        )
        users = await identity.users_by_ids(session, [student_id, ctx.user_id])
        student, educator = users.get(student_id), users.get(ctx.user_id)
        who = educator.display_name if educator else "Your instructor"
        title: str
        body: str
        link = "/notifications"
        if isinstance(data, MessageCreate):
            iv.params = {"subject": data.subject.strip(), "body": data.body.strip()}
            title, body = f"{who}: {data.subject.strip()}", data.body.strip()
        elif isinstance(data, CheckInCreate):
            at = clock.as_utc(data.at)
            if at <= now or at > now + CHECK_IN_HORIZON:
                raise CheckInTimeInvalid(
                    f"The check-in time ({_when(at)}) must be in the future and within {CHECK_IN_HORIZON.days} days.",
                    field="at",
                )
            iv.scheduled_at = at
            iv.params = {"at": at.isoformat(), "agenda": data.agenda.strip()}
            title = f"Check-in with {who}: {_when(at)}"
            body = f"{who} would like to check in with you on {_when(at)}." + (
                f" About: {data.agenda.strip()}" if data.agenda.strip() else ""
            )
        elif isinstance(data, ExtendDeadlineCreate):
            await self._same_course(repo, data.assignment_id, course_id)
            ext = await extensions.grant(session, ctx, data.assignment_id, student_id, data.due_at, data.stage)
            iv.assignment_id = data.assignment_id
            iv.params = {"assignment_id": str(data.assignment_id), "due_at": ext.due_at.isoformat()}
            if ext.stage_key:
                iv.params["stage"] = ext.stage_key
            what = f"the {ext.stage_key} stage" if ext.stage_key else "your assignment"
            title = f"New due date: {_when(ext.due_at)}"
            body = f"{who} extended the due date of {what} for you to {_when(ext.due_at)}."
            link = f"/assignments/{data.assignment_id}/write"
        elif isinstance(data, AdjustAiBudgetCreate):
            await self._same_course(repo, data.assignment_id, course_id)
            row = await budget_overrides.set(
                session, ctx, data.assignment_id, student_id, data.budget_per_hour, data.budget_per_day
            )
            iv.assignment_id = data.assignment_id
            iv.params = {
                "assignment_id": str(data.assignment_id),
                "budget_per_hour": row.budget_per_hour,
                "budget_per_day": row.budget_per_day,
            }
            title = "Your AI partner budget changed"
            body = (
                f"{who} set your AI partner requests to {row.budget_per_hour} an hour and {row.budget_per_day} a day "
                "on this assignment."
            )
            link = f"/assignments/{data.assignment_id}/write"
        else:  # pragma: no cover - the discriminated union admits nothing else
            raise AssertionError(data)
        iv = await repo.add(iv)
        kind = NotificationKind.check_in if iv.kind == InterventionKind.check_in else NotificationKind.message
        await notifications.notify(
            session, tenant_id, [student_id], kind=kind, title=title, body=body, link=link, key=f"iv:{iv.id}"
        )
        if student is not None and student.email and iv.kind in (InterventionKind.message, InterventionKind.check_in):
            base = tenant_base_url(await tenant_service.get(session, tenant_id))
            text = f"Hello {student.display_name},\n\n{body}\n\nSee your notifications: {base}{link}\n"
            await send_mail(session, to=student.email, subject=title, body=text, tenant_id=tenant_id)
        if iv.scheduled_at is not None:
            await jobs.enqueue(
                session,
                REMINDER_ACTOR,
                tenant_id=tenant_id,
                run_at=iv.scheduled_at,
                idempotency_key=f"{REMINDER_ACTOR}:{iv.id}",
                intervention_id=iv.id,
            )
        await audit.record(
            session,
            _entry(ctx, "intervention.created", iv, kind=iv.kind.value, alert_id=str(alert.id) if alert else None),
        )
        return iv

    async def _same_course(self, repo: InterventionRepository, assignment_id: uuid.UUID, course_id: uuid.UUID) -> None:
        if await repo.assignment_course(assignment_id) != course_id:
            raise AssignmentNotInCourse(field="assignment_id")

    # ---- the check-in reminder (job) -------------------------------------------------------------------------

    async def remind_check_in(self, session: AsyncSession, tenant_id: uuid.UUID, intervention_id: uuid.UUID) -> bool:
        """Remind the educator who scheduled the check-in (once: the notification's key makes a retry a no-op)."""
        iv = await InterventionRepository(session, tenant_id).get(intervention_id)
        if iv is None or iv.created_by is None or iv.scheduled_at is None:
            return False
        users = await identity.users_by_ids(session, [iv.student_user_id, iv.created_by])
        student, educator = users.get(iv.student_user_id), users.get(iv.created_by)
        name = student.display_name if student else "your student"
        title = f"Check-in now: {name}"
        body = f"You scheduled a check-in with {name} for {_when(iv.scheduled_at)}. Record how it went afterwards."
        link = f"/courses/{iv.course_id}/interventions#intervention-{iv.id}"
        new = await notifications.notify(
            session,
            tenant_id,
            [iv.created_by],
            kind=NotificationKind.check_in,
            title=title,
            body=body,
            link=link,
            key=f"iv-remind:{iv.id}",
        )
        if new and educator is not None and educator.email:
            base = tenant_base_url(await tenant_service.get(session, tenant_id))
            text = f"Hello {educator.display_name},\n\n{body}\n\n{base}{link}\n"
            await send_mail(session, to=educator.email, subject=title, body=text, tenant_id=tenant_id)
        return bool(new)

    async def course_title(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> str:
        """The course's title, for staff of the course (else 404)."""
        if not await self._staff(session, ctx, course_id):
            raise InterventionStudentNotFound()
        return (await course_access(session, ctx, course_id)).course.title

    async def course_of(self, session: AsyncSession, ctx: AuthContext, intervention_id: uuid.UUID) -> uuid.UUID:
        return (await self._get(session, ctx, intervention_id)).course_id

    # ---- reading and the outcome ------------------------------------------------------------------------------

    async def get(
        self, session: AsyncSession, ctx: AuthContext, intervention_id: uuid.UUID, *, audit_session: AsyncSession
    ) -> InterventionRead:
        iv = await self._get(session, ctx, intervention_id)
        await audit.record(audit_session, _entry(ctx, "intervention.viewed", iv))
        return (await self._reads(session, [iv]))[0]

    async def record_outcome(
        self, session: AsyncSession, ctx: AuthContext, intervention_id: uuid.UUID, data: OutcomeUpdate
    ) -> InterventionRead:
        """Record (or correct) how the intervention went."""
        iv = await self._get(session, ctx, intervention_id)
        before = iv.outcome
        iv.outcome = InterventionOutcome(data.outcome)
        iv.outcome_note = data.outcome_note.strip()
        iv.outcome_at = clock.utcnow()
        iv.outcome_by = ctx.user_id
        await session.flush()
        await audit.record(
            session,
            _entry(
                ctx,
                "intervention.outcome_recorded",
                iv,
                outcome=iv.outcome.value,
                before=before.value if before else None,
            ),
        )
        return (await self._reads(session, [iv]))[0]

    async def list_for_course(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, *, audit_session: AsyncSession
    ) -> CourseInterventions:
        """The course's interventions (newest first, at most 200) with each one's effect, and the effect per kind."""
        if not await self._staff(session, ctx, course_id):
            raise AlertCourseNotFound()
        rows = await InterventionRepository(session, _tenant(ctx)).of_course(course_id)
        items = await self._reads(session, rows)
        await audit.record(
            audit_session,
            audit.Entry(
                action="interventions.viewed",
                tenant_id=ctx.tenant_id,
                actor_user_id=ctx.user_id,
                actor_label=ctx.actor_label,
                meta=ctx.meta,
                target_type="course",
                target_id=str(course_id),
                details={"count": len(items)},
            ),
        )
        by_kind: list[KindEffectRead] = []
        for kind in InterventionKind:
            mine = [i for i in items if i.kind == kind]
            pooled = effect.pool(kind.value, [_effect_of(i.effect) for i in mine])
            outcomes = {o.value: sum(i.outcome == o for i in mine) for o in InterventionOutcome}
            by_kind.append(
                KindEffectRead(
                    kind=kind,
                    count=pooled.count,
                    measured=pooled.measured,
                    up=pooled.up,
                    steady=pooled.steady,
                    down=pooled.down,
                    before_active_min_per_day=round(pooled.before_minutes, 1),
                    after_active_min_per_day=round(pooled.after_minutes, 1),
                    before_words_per_day=round(pooled.before_words, 1),
                    after_words_per_day=round(pooled.after_words, 1),
                    change_percent=None if pooled.change_percent is None else round(pooled.change_percent, 1),
                    outcomes=outcomes,
                    summary=pooled.summary,
                )
            )
        return CourseInterventions(course_id=course_id, days=effect.DEFAULT_DAYS, items=items, by_kind=by_kind)

    async def _reads(self, session: AsyncSession, rows: list[Intervention]) -> list[InterventionRead]:
        if not rows:
            return []
        tenant_id = rows[0].tenant_id
        days = timedelta(days=effect.DEFAULT_DAYS)
        now = clock.utcnow()
        people = await identity.users_by_ids(
            session, list({r.student_user_id for r in rows} | {r.created_by for r in rows if r.created_by})
        )
        activity: dict[uuid.UUID, list[effect.Activity]] = {}
        for course_id in {r.course_id for r in rows}:
            mine = [r for r in rows if r.course_id == course_id]
            found = await InterventionRepository(session, tenant_id).activity(
                course_id,
                list({r.student_user_id for r in mine}),
                min(r.created_at for r in mine) - days,
                max(r.created_at for r in mine) + days,
            )
            for user_id, started, seconds, words in found:
                activity.setdefault(user_id, []).append(effect.Activity(clock.as_utc(started), seconds, words))
        out = []
        for r in rows:
            e = effect.measure(clock.as_utc(r.created_at), activity.get(r.student_user_id, []), now)
            student, author = people.get(r.student_user_id), people.get(r.created_by) if r.created_by else None
            out.append(
                InterventionRead(
                    id=r.id,
                    course_id=r.course_id,
                    student_user_id=r.student_user_id,
                    student_name=student.display_name if student else "(removed)",
                    alert_id=r.alert_id,
                    assignment_id=r.assignment_id,
                    kind=r.kind,
                    params=r.params,
                    note=r.note,
                    created_by=r.created_by,
                    created_by_name=author.display_name if author else None,
                    created_at=r.created_at,
                    scheduled_at=r.scheduled_at,
                    outcome=r.outcome,
                    outcome_note=r.outcome_note,
                    outcome_at=r.outcome_at,
                    effect=EffectRead(
                        ready=e.ready,
                        days=e.days,
                        ready_at=e.ready_at,
                        before_active_min_per_day=round(e.before_minutes, 1),
                        after_active_min_per_day=round(e.after_minutes, 1),
                        before_words_per_day=round(e.before_words, 1),
                        after_words_per_day=round(e.after_words, 1),
                        change_percent=None if e.change_percent is None else round(e.change_percent, 1),
                        trend=e.trend,  # type: ignore[arg-type]
                        summary=e.summary,
                    ),
                )
            )
        return out


def _effect_of(read: EffectRead) -> effect.Effect:
    return effect.Effect(
        ready=read.ready,
        days=read.days,
        ready_at=read.ready_at,
        before_minutes=read.before_active_min_per_day,
        after_minutes=read.after_active_min_per_day,
        before_words=read.before_words_per_day,
        after_words=read.after_words_per_day,
        change_percent=read.change_percent,
        trend=read.trend,
        summary=read.summary,
    )


interventions = InterventionService()


@jobs.actor(REMINDER_ACTOR, queue="default", max_attempts=5)
async def check_in_reminder(session: AsyncSession, *, intervention_id: str, tenant_id: str) -> None:
    await interventions.remind_check_in(session, uuid.UUID(tenant_id), uuid.UUID(intervention_id))
