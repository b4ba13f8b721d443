"""Alert evaluation, delivery and the educator's view of alerts (docs/alerts.md).

Evaluation runs in jobs (``alerts/tasks.py``), each tenant in its own unit of work:

- ``evaluate_activity`` (every 30 s): documents with a batch, a reflection or a partner request since the
  ``activity`` watermark (minus a minute of overlap, for transactions that committed late) get the event rules
  (stuck, large paste, reflections, over-reliance, breakthrough, improvement). Then due deliveries go out.
  Integrity reports computed since the ``integrity_reports`` watermark raise ``process_flags`` alerts in the
  same run (``alerts/integrity_rule.py``).
- ``evaluate_schedule`` (hourly): every student of every live assignment gets the time rules (no activity,
  behind schedule, productivity drop).

A finding becomes an alert only once per dedupe key (rule, student, assignment, window), only when its rule
is not muted in the course. Each new alert gets one delivery row per staff member of the course, due now, at
the end of their quiet hours, or at their next digest hour; it is pushed live to the course's alert channel
after the commit (the live dashboard is not held by quiet hours: only notifications and email are).
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts import delivery as timing
from scribetree.alerts import integrity_rule, rules
from scribetree.alerts.access import MANAGERS, StaffAccess, access_alert, access_course_alerts
from scribetree.alerts.exceptions import (
    AlertSettingsReadOnly,
    AlertStatusConflict,
    InvalidQuietHours,
    ThresholdOutOfRange,
    UnknownRule,
    UnknownThreshold,
    UnknownTimeZone,
)
from scribetree.alerts.models import (
    Alert,
    AlertCourseSettings,
    AlertDelivery,
    AlertEducatorPrefs,
    AlertStatus,
    DeliveryMode,
)
from scribetree.alerts.repository import (
    ActivityRepository,
    AlertRepository,
    CourseSettingsRepository,
    DeliveryRepository,
    PrefsRepository,
    Target,
    WatermarkRepository,
)
from scribetree.alerts.schemas import (
    AlertAction,
    AlertList,
    AlertRead,
    AlertSettingsRead,
    CourseAlertSettingsUpdate,
    EducatorAlertPrefsRead,
    EducatorAlertPrefsUpdate,
    QuietHours,
    RuleInfoRead,
    ThresholdInfo,
)
from scribetree.core import audit, clock, pacing, pubsub
from scribetree.core.config import settings as app_settings
from scribetree.core.db import after_commit
from scribetree.core.mail import send_mail
from scribetree.identity.service import identity
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.service import tenant_base_url, tenant_service
from scribetree.writing.models import WritingSession
from scribetree.writing.notification_models import NotificationKind
from scribetree.writing.notifications import notifications

log = logging.getLogger(__name__)

ACTIVITY_WATERMARK = "activity"
OVERLAP = timedelta(seconds=60)  # batches whose transaction committed after the last run began
FIRST_LOOKBACK = timedelta(hours=1)  # a tenant's first run looks this far back
SESSION_LOOKBACK = timedelta(days=75)  # the longest productivity window (14 + 60 days) and then some
REQUEST_LOOKBACK = timedelta(hours=rules.THRESHOLDS["reliance_window_hours"].high)
LIST_LIMIT = 200
DIGEST_LIST_MAX = 30


YIELD_EVERY = 50  # histories built or judged between two hand-backs of the event loop
# documents whose activity is judged together: at most every ~2 s a batch per writer, 90 s of a slice's batches
# are a few thousand rows; all of a 1,000-student server's documents at once held ~40 MB (bench/RESULTS.md)
ACTIVITY_SLICE = 50


@dataclass
class ActivityPlan:
    """What one activity evaluation found (``AlertService.plan_activity``), before anything is written."""

    now: datetime
    targets: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class EvaluationResult:
    targets: int
    findings: int
    created: int


@dataclass(frozen=True)
class DeliveryResult:
    notified: int
    emailed: int
    digests: int


def alert_url(alert: Alert) -> str:
    return f"/courses/{alert.course_id}/alerts#alert-{alert.id}"


def _words(text: Any) -> int:
    return len(text.split()) if isinstance(text, str) else 0


def batch_stat(b: Any) -> rules.BatchStat:
    """A batch as the rules read it: words typed (inserts and pastes) and each outside paste's length."""
    typed = 0
    outside: list[int] = []
    for op in b.ops or []:
        if not isinstance(op, dict):
            continue
        kind = op.get("kind")
        if kind in ("insert", "paste"):
            n = _words(op.get("text"))
            typed += n
            if kind == "paste" and op.get("seen_in_doc") is False:
                outside.append(n)
    return rules.BatchStat(
        id=b.id,
        at=clock.as_utc(b.received_at),
        chars_inserted=b.chars_inserted,
        chars_deleted=b.chars_deleted,
        words_inserted=typed,
        outside_pastes=tuple(outside),
    )


def _session_stat(s: WritingSession) -> rules.SessionStat:
    return rules.SessionStat(
        id=s.id,
        started_at=clock.as_utc(s.started_at),
        ended_at=clock.as_utc(s.ended_at),
        active_seconds=s.active_seconds,
        words_added=s.words_added,
        words_removed=s.words_removed,
    )


def _stages(raw: Any) -> list[rules.Stage]:
    out = []
    for s in raw or []:
        if not isinstance(s, dict) or not s.get("key"):
            continue
        due = s.get("due_at")
        try:
            at = clock.as_utc(datetime.fromisoformat(due)) if isinstance(due, str) else None
        except ValueError:
            at = None
        out.append(rules.Stage(key=str(s["key"]), label=str(s.get("label") or s["key"]), due_at=at))
    return out


def _prefs_read(p: AlertEducatorPrefs | None) -> EducatorAlertPrefsRead:
    if p is None:
        return EducatorAlertPrefsRead(delivery=DeliveryMode.immediate, quiet_hours=None, timezone="UTC", digest_hour=7)
    quiet = None
    if p.quiet_start_min is not None and p.quiet_end_min is not None:
        quiet = QuietHours(start=timing.fmt_hhmm(p.quiet_start_min), end=timing.fmt_hhmm(p.quiet_end_min))
    return EducatorAlertPrefsRead(
        delivery=DeliveryMode(p.delivery), quiet_hours=quiet, timezone=p.timezone, digest_hour=p.digest_hour
    )


def _entry(ctx: AuthContext, action: str, target_type: str, target_id: uuid.UUID, **details: Any) -> audit.Entry:
    return audit.Entry(
        action=action,
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        meta=ctx.meta,
        target_type=target_type,
        target_id=str(target_id),
        details=details,
    )


class AlertService:
    # ---- evaluation -------------------------------------------------------------------------------------

    async def _histories(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        targets: list[Target],
        now: datetime,
        *,
        recent: bool,
        new_since: datetime | None = None,
    ) -> list[rules.History]:
        """Histories of these targets. With ``recent``, the edit batches of the stuck window are read only for
        documents where someone deleted at least as much as they typed in it (the others cannot be stuck); for
        the rest only the batches after ``new_since`` (the new ones, for the paste rule)."""
        repo = ActivityRepository(session, tenant_id)
        doc_ids = sorted({t.document_id for t in targets if t.document_id is not None})
        batches: dict[uuid.UUID, list[Any]] = defaultdict(list)
        sessions: dict[uuid.UUID, list[WritingSession]] = defaultdict(list)
        reflections: dict[tuple[uuid.UUID, uuid.UUID], list[rules.ReflectionStat]] = defaultdict(list)
        requests: dict[tuple[uuid.UUID, uuid.UUID], list[datetime]] = defaultdict(list)
        partial: set[uuid.UUID] = set()  # documents whose batches are only the new ones
        if doc_ids:
            if recent:
                # only as far back as the longest stuck window in force (60 minutes unless a course raised it)
                stored = await CourseSettingsRepository(session, tenant_id).for_courses(
                    sorted({t.course_id for t in targets})
                )
                window = max(
                    [rules.thresholds_for(c.thresholds)["stuck_window_minutes"] for c in stored.values()]
                    + [rules.THRESHOLDS["stuck_window_minutes"].default]
                )
                start = now - timedelta(minutes=window)
                candidates = doc_ids
                if new_since is not None and new_since > start:
                    totals = await repo.window_totals(doc_ids, start)
                    candidates = [
                        d for d in doc_ids if any(n >= 2 and dele >= ins for _, n, ins, dele in totals.get(d, []))
                    ]
                    rest = sorted(set(doc_ids) - set(candidates))
                    for b in await repo.batches(rest, new_since):
                        batches[b.document_id].append(b)
                    partial.update(rest)
                for b in await repo.batches(candidates, start):
                    batches[b.document_id].append(b)
                for d, u, rid, at, total, gamed in await repo.reflections(doc_ids):
                    reflections[(d, u)].append(rules.ReflectionStat(rid, clock.as_utc(at), total, gamed))
                for d, u, at in await repo.requests(doc_ids, now - REQUEST_LOOKBACK):
                    requests[(d, u)].append(clock.as_utc(at))
            for s in await repo.sessions(doc_ids, now - SESSION_LOOKBACK):
                sessions[s.document_id].append(s)
        idle = app_settings.WRITING_SESSION_IDLE_SECONDS
        out = []
        for i, t in enumerate(targets):
            if i and i % YIELD_EVERY == 0:
                await pacing.pause()  # a class of hundreds: hand the event loop back (core/pacing.py)
            a = t.assignment
            d = t.document_id
            mine_b = (
                [b for b in batches.get(d, []) if not t.group or b.author_user_id == t.student_user_id] if d else []
            )
            mine_s = [s for s in sessions.get(d, []) if not t.group or s.user_id == t.student_user_id] if d else []
            out.append(
                rules.History(
                    now=now,
                    student_user_id=t.student_user_id,
                    course_id=t.course_id,
                    assignment_id=a.id,
                    document_id=d,
                    due_at=clock.as_utc(a.due_at) if a.due_at else None,
                    stages=_stages(a.stages),
                    word_min=a.word_min,
                    word_count=t.word_count,
                    submitted=t.submitted,
                    last_activity_at=clock.as_utc(t.last_activity_at) if t.last_activity_at else None,
                    opened_at=clock.as_utc(a.published_at) if a.published_at else None,
                    sessions=[_session_stat(s) for s in mine_s],
                    batches=[batch_stat(b) for b in mine_b],
                    reflections=reflections.get((d, t.student_user_id), []) if d else [],
                    requests_at=requests.get((d, t.student_user_id), []) if d else [],
                    idle_seconds=idle,
                    batch_window_complete=d not in partial,
                )
            )
        return out

    async def _run_rules(
        self, session: AsyncSession, tenant_id: uuid.UUID, histories: list[rules.History], *, on_activity: bool
    ) -> EvaluationResult:
        rows = await self._findings(session, tenant_id, histories, on_activity=on_activity)
        created = await self._raise(session, tenant_id, rows, histories[0].now)
        return EvaluationResult(len(histories), len(rows), len(created))

    async def _findings(
        self, session: AsyncSession, tenant_id: uuid.UUID, histories: list[rules.History], *, on_activity: bool
    ) -> list[dict[str, Any]]:
        """The alert rows the rules find in ``histories`` (reads the courses' thresholds; writes nothing)."""
        course_ids = sorted({h.course_id for h in histories})
        stored = await CourseSettingsRepository(session, tenant_id).for_courses(course_ids)
        per_course = {
            c: (
                rules.thresholds_for(stored[c].thresholds if c in stored else None),
                set(stored[c].muted_rules) if c in stored else set(),
            )
            for c in course_ids
        }
        catalog = rules.all_rules()
        rows: list[dict[str, Any]] = []
        for i, h in enumerate(histories):
            if i and i % YIELD_EVERY == 0:
                await pacing.pause()
            th, muted = per_course[h.course_id]
            for f in rules.evaluate(h, th, muted=muted, on_activity=on_activity):
                info = catalog[f.rule]
                rows.append(
                    {
                        "course_id": h.course_id,
                        "assignment_id": h.assignment_id,
                        "student_user_id": h.student_user_id,
                        "rule": f.rule,
                        "severity": f.severity,
                        "positive": f.positive,
                        "title": f.title[:300],
                        "evidence": {"figures": f.figures, "links": self._links(h, f.rule), "rule_label": info.label},
                        "suggested_actions": [a.value for a in info.actions],
                        "dedupe_key": rules.dedupe_key(f, h.student_user_id, h.assignment_id),
                    }
                )
        return rows

    async def _raise(
        self, session: AsyncSession, tenant_id: uuid.UUID, rows: list[dict[str, Any]], now: datetime
    ) -> list[Alert]:
        """Insert alert rows (one per dedupe key) and fan the new ones out to the staff."""
        created: list[Alert] = []
        for i in range(0, len(rows), 500):
            created += await AlertRepository(session, tenant_id).insert_new(rows[i : i + 500])
        if created:
            await self._fan_out(session, tenant_id, created, now)
        return created

    @staticmethod
    def _links(h: rules.History, rule: str) -> list[dict[str, str]]:
        links = []
        if h.document_id is not None:
            links.append({"label": "Open the document", "url": f"/documents/{h.document_id}/review"})
            links.append({"label": "Writing history", "url": f"/documents/{h.document_id}/history"})
        if rule in ("low_reflections", "over_reliance", "steady_improvement"):
            links.append({"label": "AI partner use", "url": f"/assignments/{h.assignment_id}/partner"})
        return links

    async def evaluate_activity(
        self, session: AsyncSession, tenant_id: uuid.UUID, now: datetime | None = None
    ) -> EvaluationResult:
        """The event rules for documents with activity since the watermark; moves the watermark to ``now``."""
        return await self.apply_activity(session, tenant_id, await self.plan_activity(session, tenant_id, now))

    async def plan_activity(
        self, session: AsyncSession, tenant_id: uuid.UUID, now: datetime | None = None
    ) -> ActivityPlan:
        """Everything ``evaluate_activity`` reads and computes, writing nothing: the periodic job runs it on a read
        session (on SQLite, the single writer stays free for students' batches while the rules run)."""
        now = now or clock.utcnow()
        last = await WatermarkRepository(session, tenant_id).get_value(ACTIVITY_WATERMARK)
        since = (last - OVERLAP) if last else now - FIRST_LOOKBACK
        repo = ActivityRepository(session, tenant_id)
        docs = await repo.touched_documents(since, now)
        targets, rows = 0, []
        # A slice of documents at a time: their batches since the watermark (with the overlap, 90 s of a class's
        # typing) are in memory together, not every document's (each history is judged on its own).
        for at in range(0, len(docs), ACTIVITY_SLICE):
            if at:
                await pacing.pause()
            found = await repo.targets_for_documents(docs[at : at + ACTIVITY_SLICE])
            histories = await self._histories(session, tenant_id, found, now, recent=True, new_since=since)
            if histories:
                targets += len(histories)
                rows += await self._findings(session, tenant_id, histories, on_activity=True)
        return ActivityPlan(now=now, targets=targets, rows=rows)

    async def apply_activity(self, session: AsyncSession, tenant_id: uuid.UUID, plan: ActivityPlan) -> EvaluationResult:
        """Write what ``plan_activity`` found: new alerts (deduplicated), their deliveries, the watermark; then the
        submissions' process flags (they move their own watermark, so they belong to the writing phase)."""
        created = await self._raise(session, tenant_id, plan.rows, plan.now) if plan.rows else []
        await WatermarkRepository(session, tenant_id).set_value(ACTIVITY_WATERMARK, plan.now)
        flagged_rows = await integrity_rule.flagged_rows(session, tenant_id, plan.now)
        flagged = await self._raise(session, tenant_id, flagged_rows, plan.now) if flagged_rows else []
        return EvaluationResult(plan.targets, len(plan.rows) + len(flagged_rows), len(created) + len(flagged))

    async def evaluate_schedule(
        self, session: AsyncSession, tenant_id: uuid.UUID, now: datetime | None = None
    ) -> EvaluationResult:
        """The time rules for every student of every live assignment not yet past due."""
        now = now or clock.utcnow()
        targets = await ActivityRepository(session, tenant_id).scheduled_targets(now)
        if not targets:
            return EvaluationResult(0, 0, 0)
        histories = await self._histories(session, tenant_id, targets, now, recent=False)
        return await self._run_rules(session, tenant_id, histories, on_activity=False)

    async def evaluate_histories(
        self, session: AsyncSession, tenant_id: uuid.UUID, histories: list[rules.History], *, on_activity: bool
    ) -> EvaluationResult:
        """Rules over histories gathered elsewhere (tests, the benchmark)."""
        if not histories:
            return EvaluationResult(0, 0, 0)
        return await self._run_rules(session, tenant_id, histories, on_activity=on_activity)

    # ---- delivery ---------------------------------------------------------------------------------------

    async def _fan_out(self, session: AsyncSession, tenant_id: uuid.UUID, created: list[Alert], now: datetime) -> None:
        course_ids = sorted({a.course_id for a in created})
        staff = await ActivityRepository(session, tenant_id).staff(course_ids)
        prefs = await PrefsRepository(session, tenant_id).for_courses(course_ids)
        rows = []
        for a in created:
            for uid in staff.get(a.course_id, []):
                p = prefs.get((a.course_id, uid))
                mode = DeliveryMode(p.delivery) if p else DeliveryMode.immediate
                due = timing.due_at(
                    now,
                    mode=mode,
                    tz=p.timezone if p else "UTC",
                    quiet_start=p.quiet_start_min if p else None,
                    quiet_end=p.quiet_end_min if p else None,
                    digest_hour=p.digest_hour if p else 7,
                )
                rows.append({"alert_id": a.id, "user_id": uid, "mode": mode, "due_at": due})
        await DeliveryRepository(session, tenant_id).insert(rows)
        users = await identity.users_by_ids(session, sorted({a.student_user_id for a in created}))
        messages = []
        for a in created:
            student = users.get(a.student_user_id)
            messages.append(
                (
                    pubsub.alerts_channel(tenant_id, a.course_id),
                    {
                        "type": "alert",
                        "alert_id": str(a.id),
                        "course_id": str(a.course_id),
                        "assignment_id": str(a.assignment_id) if a.assignment_id else None,
                        "student_user_id": str(a.student_user_id),
                        "student_name": student.display_name if student else "",
                        "rule": a.rule,
                        "severity": str(a.severity),
                        "positive": a.positive,
                        "title": a.title,
                        "created_at": clock.as_utc(a.created_at).isoformat(),
                        "url": alert_url(a),
                    },
                )
            )

        async def push() -> None:
            for channel, message in messages:
                await pubsub.publish(channel, message)

        after_commit(session, push)

    async def deliver_due(
        self, session: AsyncSession, tenant_id: uuid.UUID, now: datetime | None = None
    ) -> DeliveryResult:
        """Send what is due: one notification (and email) per immediate alert; one digest per educator for their
        digest alerts. Alerts closed in the meantime are marked delivered without a message."""
        now = now or clock.utcnow()
        repo = DeliveryRepository(session, tenant_id)
        due = await repo.due(now)
        if not due:
            return DeliveryResult(0, 0, 0)
        people = sorted({d.user_id for d, _ in due} | {a.student_user_id for _, a in due})
        users = await identity.users_by_ids(session, people)
        tenant = await tenant_service.get(session, tenant_id)
        base = tenant_base_url(tenant)
        notified = emailed = digests = 0
        digest: dict[uuid.UUID, list[Alert]] = defaultdict(list)
        for d, a in due:
            if a.status != AlertStatus.open:
                continue
            if d.mode == DeliveryMode.digest:
                digest[d.user_id].append(a)
                continue
            student = users.get(a.student_user_id)
            name = student.display_name if student else "A student"
            title = f"{name}: {a.title}"
            new = await notifications.notify(
                session,
                tenant_id,
                [d.user_id],
                kind=NotificationKind.alert,
                title=title,
                body=f"Rule: {a.evidence.get('rule_label', a.rule)}. Severity: {a.severity}.",
                link=alert_url(a),
                key=f"alert:{a.id}",
            )
            notified += new
            educator = users.get(d.user_id)
            if new and educator is not None and educator.email:
                body = f"Hello {educator.display_name},\n\n{title}\n\nSee the evidence and act: {base}{alert_url(a)}\n"
                await send_mail(
                    session, to=educator.email, subject=f"Alert: {title}"[:200], body=body, tenant_id=tenant_id
                )
                emailed += 1
        for uid, alerts in digest.items():
            n = len(alerts)
            lines = []
            for a in alerts[:DIGEST_LIST_MAX]:
                student = users.get(a.student_user_id)
                lines.append(f"- {student.display_name if student else 'A student'}: {a.title} ({base}{alert_url(a)})")
            if n > DIGEST_LIST_MAX:
                lines.append(f"- … and {n - DIGEST_LIST_MAX} more")
            key = f"alert-digest:{now.strftime('%Y-%m-%dT%H')}"
            courses = sorted({a.course_id for a in alerts})
            link = f"/courses/{courses[0]}/alerts" if len(courses) == 1 else "/notifications"
            new = await notifications.notify(
                session,
                tenant_id,
                [uid],
                kind=NotificationKind.alert_digest,
                title=f"Alert digest: {n} new alert{'s' if n != 1 else ''}",
                body="\n".join(lines),
                link=link,
                key=key,
            )
            notified += new
            digests += 1
            educator = users.get(uid)
            if new and educator is not None and educator.email:
                body = f"Hello {educator.display_name},\n\nYour daily alert digest ({n}):\n\n" + "\n".join(lines) + "\n"
                await send_mail(
                    session, to=educator.email, subject=f"Alert digest: {n} new", body=body, tenant_id=tenant_id
                )
                emailed += 1
        await repo.mark_delivered([d.id for d, _ in due], now)
        return DeliveryResult(notified, emailed, digests)

    # ---- the educator's view ----------------------------------------------------------------------------

    async def _reads(self, session: AsyncSession, alerts: list[Alert]) -> list[AlertRead]:
        users = await identity.users_by_ids(session, sorted({a.student_user_id for a in alerts}))
        out = []
        for a in alerts:
            r = AlertRead.model_validate(a)
            student = users.get(a.student_user_id)
            out.append(
                r.model_copy(update={"student_name": student.display_name if student else None, "url": alert_url(a)})
            )
        return out

    async def list_for_course(
        self,
        session: AsyncSession,
        audit_session: AsyncSession,
        ctx: AuthContext,
        course_id: uuid.UUID,
        *,
        statuses: list[AlertStatus] | None = None,
        rule: str | None = None,
        student_user_id: uuid.UUID | None = None,
        limit: int = LIST_LIMIT,
    ) -> AlertList:
        """The course's alerts, newest first (staff only; audited, since they describe students)."""
        acc = await access_course_alerts(session, ctx, course_id)
        if rule is not None and rule not in rules.all_rules():
            raise UnknownRule(f"There is no rule called '{rule}'.")
        repo = AlertRepository(session, acc.tenant_id)
        alerts = await repo.for_course(
            course_id,
            statuses=statuses,
            rule=rule,
            student_user_id=student_user_id,
            limit=max(1, min(limit, LIST_LIMIT)),
        )
        await audit.record(
            audit_session,
            _entry(
                ctx,
                "alerts.listed",
                "course",
                course_id,
                count=len(alerts),
                student_user_id=str(student_user_id) if student_user_id else None,
            ),
        )
        return AlertList(items=await self._reads(session, alerts), open_count=await repo.open_count(course_id))

    async def get(
        self, session: AsyncSession, audit_session: AsyncSession, ctx: AuthContext, alert_id: uuid.UUID
    ) -> AlertRead:
        alert, _ = await access_alert(session, ctx, alert_id)
        await audit.record(
            audit_session, _entry(ctx, "alerts.viewed", "alert", alert.id, student_user_id=str(alert.student_user_id))
        )
        return (await self._reads(session, [alert]))[0]

    async def act(self, session: AsyncSession, ctx: AuthContext, alert_id: uuid.UUID, body: AlertAction) -> AlertRead:
        """Acknowledge (open → acknowledged), resolve or dismiss (open or acknowledged → closed, with who and when).
        A closed alert answers 409 ``AlertStatusConflict``; acknowledging an acknowledged alert changes nothing."""
        alert, _ = await access_alert(session, ctx, alert_id)
        status = AlertStatus(alert.status)
        if status in (AlertStatus.resolved, AlertStatus.dismissed):
            raise AlertStatusConflict(f"The alert is already {status.value}.")
        if body.action == "acknowledge":
            if status == AlertStatus.open:
                alert.status = AlertStatus.acknowledged
        else:
            alert.status = AlertStatus.resolved if body.action == "resolve" else AlertStatus.dismissed
            alert.resolved_at = clock.utcnow()
            alert.resolved_by = ctx.user_id
        await session.flush()
        await audit.record(session, _entry(ctx, f"alerts.{body.action}", "alert", alert.id, status=str(alert.status)))
        return (await self._reads(session, [alert]))[0]

    # ---- settings ---------------------------------------------------------------------------------------

    def _settings_read(
        self, acc: StaffAccess, stored: AlertCourseSettings | None, mine: AlertEducatorPrefs | None
    ) -> AlertSettingsRead:
        overrides = dict(stored.thresholds) if stored else {}
        muted = list(stored.muted_rules) if stored else []
        merged = rules.thresholds_for(overrides)
        return AlertSettingsRead(
            course_id=acc.course_id,
            editable=acc.course_role in MANAGERS,
            thresholds=overrides,
            muted_rules=muted,
            rules=[
                RuleInfoRead(
                    code=r.code,
                    label=r.label,
                    muted=r.code in muted,
                    on_activity=r.on_activity,
                    thresholds=list(r.thresholds),
                    suggested_actions=[a.value for a in r.actions],
                )
                for r in rules.all_rules().values()
            ],
            catalog=[
                ThresholdInfo(
                    name=k, default=t.default, low=t.low, high=t.high, unit=t.unit, label=t.label, value=merged[k]
                )
                for k, t in rules.THRESHOLDS.items()
            ],
            mine=_prefs_read(mine),
        )

    async def get_settings(self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID) -> AlertSettingsRead:
        """The course's thresholds (defaults and overrides), muted rules, and the caller's own delivery."""
        acc = await access_course_alerts(session, ctx, course_id)
        stored = await CourseSettingsRepository(session, acc.tenant_id).for_course(course_id)
        mine = await PrefsRepository(session, acc.tenant_id).of(course_id, ctx.user_id)
        return self._settings_read(acc, stored, mine)

    async def put_course_settings(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, body: CourseAlertSettingsUpdate
    ) -> AlertSettingsRead:
        """Replace the course's threshold overrides and muted rules (instructors and admins; audited)."""
        acc = await access_course_alerts(session, ctx, course_id)
        if acc.course_role not in MANAGERS:
            raise AlertSettingsReadOnly()
        try:
            thresholds = rules.validate_thresholds(body.thresholds)
        except rules.ThresholdError as exc:
            cls = UnknownThreshold if exc.code == "UnknownThreshold" else ThresholdOutOfRange
            raise cls(str(exc)) from None
        unknown = [r for r in body.muted_rules if r not in rules.all_rules()]
        if unknown:
            raise UnknownRule(f"There is no rule called '{unknown[0]}'.")
        muted = sorted(set(body.muted_rules))
        repo = CourseSettingsRepository(session, acc.tenant_id)
        stored = await repo.for_course(course_id)
        if stored is None:
            stored = await repo.add(
                AlertCourseSettings(
                    tenant_id=acc.tenant_id,
                    course_id=course_id,
                    thresholds=thresholds,
                    muted_rules=muted,
                    updated_by=ctx.user_id,
                )
            )
        else:
            stored.thresholds = thresholds
            stored.muted_rules = muted
            stored.updated_by = ctx.user_id
            await session.flush()
        await audit.record(
            session,
            _entry(ctx, "alerts.settings_changed", "course", course_id, thresholds=thresholds, muted_rules=muted),
        )
        mine = await PrefsRepository(session, acc.tenant_id).of(course_id, ctx.user_id)
        return self._settings_read(acc, stored, mine)

    async def put_my_prefs(
        self, session: AsyncSession, ctx: AuthContext, course_id: uuid.UUID, body: EducatorAlertPrefsUpdate
    ) -> AlertSettingsRead:
        """The caller's own delivery for the course (any staff member): immediate or daily digest, quiet hours in
        their time zone. Applies to alerts created from now on."""
        acc = await access_course_alerts(session, ctx, course_id)
        if timing.zone(body.timezone) is None:
            raise UnknownTimeZone(f"Unknown time zone '{body.timezone}'; use an IANA name such as 'Europe/Berlin'.")
        start = end = None
        if body.quiet_hours is not None:
            start, end = timing.parse_hhmm(body.quiet_hours.start), timing.parse_hhmm(body.quiet_hours.end)
            if start == end:
                raise InvalidQuietHours("Quiet hours must start and end at different times.")
        repo = PrefsRepository(session, acc.tenant_id)
        mine = await repo.of(course_id, ctx.user_id)
        if mine is None:
            mine = AlertEducatorPrefs(tenant_id=acc.tenant_id, course_id=course_id, user_id=ctx.user_id)
            session.add(mine)
        mine.delivery = body.delivery
        mine.quiet_start_min, mine.quiet_end_min = start, end
        mine.timezone = body.timezone
        mine.digest_hour = body.digest_hour
        await session.flush()
        stored = await CourseSettingsRepository(session, acc.tenant_id).for_course(course_id)
        return self._settings_read(acc, stored, mine)


alerts = AlertService()

__all__ = ["AlertDelivery", "AlertService", "DeliveryResult", "EvaluationResult", "alerts", "batch_stat"]
