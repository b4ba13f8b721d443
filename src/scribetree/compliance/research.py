"""Research access to an institution's data: its consent, and de-identified, k-suppressed aggregates.

The rule (docs/mcp.md, "Research tools"): a research query runs only when the institution has consented
(``research_settings.consented``) AND the caller is an institution admin using a token with the ``research``
scope (only institution admins can create one; a token stops carrying the scope when its owner stops being an
admin). Output holds no names, no free text and no raw ids: courses are pseudonyms (HMAC-SHA256 under a key
derived from the secret key and the tenant id, truncated to 16 hex digits), and every group with fewer than
``k_min`` distinct students has its values set to null and ``suppressed: true``. Every query is written to
``research_query_log`` and the audit trail (``research.query``).
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner.models import AiReflection
from scribetree.analytics.models import DailyActivityRow
from scribetree.compliance.research_models import K_MIN_DEFAULT, K_MIN_RANGE, ResearchQueryLog, ResearchSettings
from scribetree.core import audit, clock
from scribetree.core.config import settings as app_settings
from scribetree.core.errors import Forbidden, InvalidInput
from scribetree.courses.models import Assignment
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.models import Role
from scribetree.tenancy.permissions import Permission, Scope
from scribetree.writing.models import Document, Submission

MAX_WEEKS = 104


class ResearchNotConsented(Forbidden):
    default_detail = (
        "Your institution has not consented to research use of its data. An institution admin can turn it on "
        'with PUT /api/v1/research-settings {"consented": true}.'
    )


class ResearchScopeRequired(Forbidden):
    default_detail = (
        "Research tools need an institution admin's API token with the 'read' and 'research' scopes; create one "
        "on the API tokens page of your account."
    )


class ResearchSettingsRead(BaseModel):
    consented: bool
    k_min: int
    updated_by: uuid.UUID | None = None
    updated_at: datetime | None = None


class ResearchSettingsUpdate(BaseModel):
    consented: bool
    k_min: int = Field(default=K_MIN_DEFAULT, ge=K_MIN_RANGE[0], le=K_MIN_RANGE[1])


class ActivityRow(BaseModel):
    course: str = Field(description="course pseudonym (stable per institution, not the course id)")
    week: str = Field(description="ISO week, e.g. 2026-W47")
    suppressed: bool
    students_active: int | None
    median_active_minutes: float | None
    median_words_added: float | None
    submissions: int | None


class ActivityReport(BaseModel):
    k_min: int
    weeks: int
    rows: list[ActivityRow]


class ReflectionRow(BaseModel):
    course: str
    week: str
    suppressed: bool
    students: int | None
    reflections: int | None
    median_score: float | None = Field(description="median reflection total, 0-20")


class ReflectionReport(BaseModel):
    k_min: int
    weeks: int
    rows: list[ReflectionRow]


def _tenant(ctx: AuthContext) -> uuid.UUID:
    if ctx.tenant_id is None:
        raise Forbidden("Research settings belong to an institution; sign in to your institution first.")
    return ctx.tenant_id


def pseudonym(tenant_id: uuid.UUID, value: uuid.UUID) -> str:
    """HMAC-SHA256 of ``value`` under a per-tenant key derived from the secret key; 16 hex digits."""
    secret = app_settings.SECRET_KEY.get_secret_value().encode()
    key = hmac.new(secret, b"scribetree-research:" + tenant_id.bytes, hashlib.sha256).digest()
    return hmac.new(key, value.bytes, hashlib.sha256).hexdigest()[:16]


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _median(values: Iterable[float]) -> float:
    return round(float(statistics.median(list(values))), 1)


def _entry(ctx: AuthContext, action: str, target_type: str, target_id: str, details: dict[str, Any]) -> audit.Entry:
    return audit.Entry(
        action=action,
        tenant_id=ctx.tenant_id,
        actor_user_id=ctx.user_id,
        actor_label=ctx.actor_label,
        target_type=target_type,
        target_id=target_id,
        details=details,
        meta=ctx.meta,
    )


class ResearchService:
    # ---- consent ----

    async def _row(self, session: AsyncSession, tenant_id: uuid.UUID) -> ResearchSettings | None:
        return await session.scalar(select(ResearchSettings).where(ResearchSettings.tenant_id == tenant_id))

    async def get_settings(self, session: AsyncSession, ctx: AuthContext) -> ResearchSettingsRead:
        if not ctx.can(Permission.audit_read):
            raise Forbidden()
        row = await self._row(session, _tenant(ctx))
        if row is None:
            return ResearchSettingsRead(consented=False, k_min=K_MIN_DEFAULT)
        return ResearchSettingsRead.model_validate(row, from_attributes=True)

    async def update_settings(
        self, session: AsyncSession, ctx: AuthContext, data: ResearchSettingsUpdate
    ) -> ResearchSettingsRead:
        if not ctx.can(Permission.tenant_settings_write):
            raise Forbidden()
        if not K_MIN_RANGE[0] <= data.k_min <= K_MIN_RANGE[1]:
            raise InvalidInput(f"k_min must be between {K_MIN_RANGE[0]} and {K_MIN_RANGE[1]}.")
        tenant_id = _tenant(ctx)
        row = await self._row(session, tenant_id)
        before = None if row is None else {"consented": row.consented, "k_min": row.k_min}
        if row is None:
            row = ResearchSettings(tenant_id=tenant_id)
            session.add(row)
        row.consented = data.consented
        row.k_min = data.k_min
        row.updated_by = ctx.user_id
        row.updated_at = clock.utcnow()
        await session.flush()
        after = {"consented": data.consented, "k_min": data.k_min}
        details = {"before": before, "after": after}
        await audit.record(
            session, _entry(ctx, "research.settings_updated", "research_settings", str(tenant_id), details)
        )
        return ResearchSettingsRead.model_validate(row, from_attributes=True)

    # ---- queries ----

    async def _allowed(self, session: AsyncSession, ctx: AuthContext) -> ResearchSettings:
        if ctx.role != Role.institution_admin or Scope.research not in ctx.scopes:
            raise ResearchScopeRequired()
        row = await self._row(session, _tenant(ctx))
        if row is None or not row.consented:
            raise ResearchNotConsented()
        return row

    async def _log(
        self, session: AsyncSession, ctx: AuthContext, query: str, params: dict[str, Any], rows: list[Any]
    ) -> None:
        suppressed = sum(1 for r in rows if r.suppressed)
        tenant_id = _tenant(ctx)
        session.add(
            ResearchQueryLog(
                tenant_id=tenant_id,
                user_id=ctx.user_id,
                query=query,
                parameters=params,
                rows=len(rows),
                suppressed=suppressed,
            )
        )
        details = {"query": query, "parameters": params, "rows": len(rows), "suppressed": suppressed}
        await audit.record(session, _entry(ctx, "research.query", "research_query", query, details))
        await session.flush()

    @staticmethod
    def _since(weeks: int) -> date:
        if not 1 <= weeks <= MAX_WEEKS:
            raise InvalidInput(f"weeks must be between 1 and {MAX_WEEKS}.")
        today = clock.utcnow().date()
        return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)  # a Monday

    async def course_activity(self, session: AsyncSession, ctx: AuthContext, *, weeks: int) -> ActivityReport:
        """Per course x ISO week: students active, median active minutes and words added per active student,
        submissions. Groups with fewer than k_min active students are suppressed."""
        conf = await self._allowed(session, ctx)
        tenant_id = _tenant(ctx)
        since = self._since(weeks)
        minutes: dict[tuple[uuid.UUID, str], dict[uuid.UUID, list[int]]] = defaultdict(dict)
        activity = await session.execute(
            select(
                DailyActivityRow.course_id,
                DailyActivityRow.user_id,
                DailyActivityRow.day,
                DailyActivityRow.active_seconds,
                DailyActivityRow.words_added,
            ).where(DailyActivityRow.tenant_id == tenant_id, DailyActivityRow.day >= since)
        )
        for course_id, user_id, day, seconds, words in activity:
            if not seconds and not words:
                continue
            totals = minutes[(course_id, iso_week(day))].setdefault(user_id, [0, 0])
            totals[0] += seconds or 0
            totals[1] += words or 0
        submitted: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        subs = await session.execute(
            select(Assignment.course_id, Submission.submitted_at)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.tenant_id == tenant_id, Assignment.tenant_id == tenant_id)
        )
        for course_id, at in subs:
            if at.date() >= since:
                submitted[(course_id, iso_week(at.date()))] += 1
        rows: list[ActivityRow] = []
        for key in sorted(set(minutes) | set(submitted), key=lambda k: (k[1], str(k[0]))):
            course_id, week = key
            people = minutes.get(key, {})
            hidden = len(people) < conf.k_min
            rows.append(
                ActivityRow(
                    course=pseudonym(tenant_id, course_id),
                    week=week,
                    suppressed=hidden,
                    students_active=None if hidden else len(people),
                    median_active_minutes=None if hidden else _median(v[0] / 60 for v in people.values()),
                    median_words_added=None if hidden else _median(v[1] for v in people.values()),
                    submissions=None if hidden else submitted.get(key, 0),
                )
            )
        rows.sort(key=lambda r: (r.week, r.course))
        await self._log(session, ctx, "research_course_activity", {"weeks": weeks, "k_min": conf.k_min}, rows)
        return ActivityReport(k_min=conf.k_min, weeks=weeks, rows=rows)

    async def reflection_quality(self, session: AsyncSession, ctx: AuthContext, *, weeks: int) -> ReflectionReport:
        """Per course x ISO week: reflections written, distinct students, median reflection score (0-20)."""
        conf = await self._allowed(session, ctx)
        tenant_id = _tenant(ctx)
        since = self._since(weeks)
        groups: dict[tuple[uuid.UUID, str], list[tuple[uuid.UUID, int]]] = defaultdict(list)
        found = await session.execute(
            select(Assignment.course_id, AiReflection.user_id, AiReflection.created_at, AiReflection.total)
            .join(Document, Document.id == AiReflection.document_id)
            .join(Assignment, Assignment.id == Document.assignment_id)
            .where(
                AiReflection.tenant_id == tenant_id,
                Document.tenant_id == tenant_id,
                Assignment.tenant_id == tenant_id,
            )
        )
        for course_id, user_id, at, total in found:
            if at.date() >= since:
                groups[(course_id, iso_week(at.date()))].append((user_id, total))
        rows: list[ReflectionRow] = []
        for (course_id, week), items in groups.items():
            students = len({u for u, _ in items})
            hidden = students < conf.k_min
            rows.append(
                ReflectionRow(
                    course=pseudonym(tenant_id, course_id),
                    week=week,
                    suppressed=hidden,
                    students=None if hidden else students,
                    reflections=None if hidden else len(items),
                    median_score=None if hidden else _median(t for _, t in items),
                )
            )
        rows.sort(key=lambda r: (r.week, r.course))
        await self._log(session, ctx, "research_reflection_quality", {"weeks": weeks, "k_min": conf.k_min}, rows)
        return ReflectionReport(k_min=conf.k_min, weeks=weeks, rows=rows)


research = ResearchService()
