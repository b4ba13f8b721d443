"""The AI partner's rules around the engine: settings, the reflection gate, levels, budget and the exchange log.

A request to the partner is checked in this order (docs/ai-partner.md): access to the document (its student
or group member), the partner on for the current stage and not in exam mode (409 ``PartnerDisabled``), the
reflection gate (409 ``ReflectionRequired``), the budget (429 ``PartnerBudgetExhausted``). The request to the
engine is built from the server's copy of the draft, with the level and the allowed kinds derived here; the
engine runs with no database transaction open (no pooled connection held while it waits), and the exchange
is written afterwards. Services never commit (STYLE T2).
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.ai_partner import engine, levels
from scribetree.ai_partner.budget import budget_overrides
from scribetree.ai_partner.engine.types import HelpKind, Level, PartnerAnswer, PartnerRequest, ProviderConfig
from scribetree.ai_partner.exceptions import (
    PartnerBudgetExhausted,
    PartnerDisabled,
    PartnerStaffOnly,
    PartnerStudentsOnly,
    ReflectionRequired,
    SettingsReadOnly,
    UnknownStage,
)
from scribetree.ai_partner.models import AiExchange, AiLevelChange, AiReflection, ReflectionKind
from scribetree.ai_partner.providers_settings import provider_config_for
from scribetree.ai_partner.reflection import ReflectionInput, score_reflection
from scribetree.ai_partner.repository import (
    ExchangeRepository,
    LevelChangeRepository,
    PeopleRepository,
    ReflectionRepository,
)
from scribetree.ai_partner.schemas import (
    AiSettings,
    AiSettingsRead,
    AssignmentSummary,
    EffectiveSettings,
    ExchangeRead,
    HistoryRead,
    LevelChangeRead,
    LevelRead,
    PartnerAsk,
    ReflectionCreate,
    ReflectionRead,
    ReflectionResult,
    StudentSummary,
    VerdictRead,
)
from scribetree.ai_partner.settings import current_stage, effective, load_settings
from scribetree.core import audit, clock
from scribetree.core.db import release
from scribetree.courses.service import AssignmentAccess, assignment_access
from scribetree.tenancy.context import AuthContext
from scribetree.writing.models import Document, DocumentStatus
from scribetree.writing.service import document as document_service

STUDENT = "student"
MANAGERS = ("instructor", "admin")
HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
FOLLOW_UP_PROMPT = "What will you change in your draft after these questions, and why?"
# Over-reliance: at least this many requests, and more than this many per 100 words written (or nothing written).
OVER_RELIANCE_MIN_REQUESTS = 5
OVER_RELIANCE_PER_100_WORDS = 2.0
_MARKDOWN = re.compile(r"[*_`#>\[\]]|\(https?://[^)]*\)")


def _settings_read(acc: AssignmentAccess) -> AiSettingsRead:
    settings, valid = load_settings(acc.assignment.ai_settings)
    stage = current_stage(acc.assignment.stages, clock.utcnow())
    return AiSettingsRead(
        settings=settings,
        editable=acc.course_role in MANAGERS,
        current_stage=stage.get("key") if stage else None,
        effective=effective(settings, valid, stage),
        stored_valid=valid,
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


def _tenant(ctx: AuthContext) -> uuid.UUID:
    assert ctx.tenant_id is not None  # the routes require a tenant sign-in
    return ctx.tenant_id


# ---- reads of the history ------------------------------------------------------------------------------------


def _reflection_read(row: AiReflection) -> ReflectionRead:
    return ReflectionRead.model_validate(row)


def _exchange_read(row: AiExchange, follow_up_prompt: str | None = None) -> ExchangeRead:
    return ExchangeRead(
        id=row.id,
        document_id=row.document_id,
        user_id=row.user_id,
        stage=row.stage,
        question=row.question,
        questions=list(row.answer.get("questions", [])),
        refusal=row.answer.get("refusal"),
        kind=row.kind,
        provider=row.provider,
        bank_version=row.answer.get("bank_version"),
        verdicts=[VerdictRead(ok=v["ok"], reasons=list(v.get("reasons", []))) for v in row.verdicts],
        fell_back=row.fell_back,
        level=Level(row.level),
        latency_ms=row.latency_ms,
        created_at=row.created_at,
        follow_up_prompt=follow_up_prompt,
    )


def _plain(markdown: str) -> str:
    return _MARKDOWN.sub("", markdown)


class PartnerService:
    # ---- settings ------------------------------------------------------------------------------------------

    async def get_settings(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> AiSettingsRead:
        """The assignment's AI settings and what applies now: staff and the assignment's students (read-only)."""
        return _settings_read(await assignment_access(session, ctx, assignment_id))

    async def put_settings(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, data: AiSettings
    ) -> AiSettingsRead:
        """Replace the settings (instructors and admins; TAs read only). Audited with the fields that changed."""
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role not in MANAGERS:
            raise SettingsReadOnly()
        stage_keys = {s.get("key") for s in acc.assignment.stages}
        unknown = sorted(set(data.stages) - stage_keys)
        if unknown:
            have = ", ".join(sorted(k for k in stage_keys if k)) or "none"
            raise UnknownStage(
                f"This assignment has no stage {', '.join(repr(k) for k in unknown)}; its stages are: {have}."
            )
        before = dict(acc.assignment.ai_settings or {})
        after = data.model_dump(mode="json")
        old, _ = load_settings(before)
        old_json = old.model_dump(mode="json")
        changed = {k: {"from": old_json.get(k), "to": v} for k, v in after.items() if old_json.get(k) != v}
        if after != before:
            acc.assignment.ai_settings = after
            await session.flush()
            await audit.record(
                session, _entry(ctx, "ai_partner.settings_changed", "assignment", assignment_id, changed=changed)
            )
        return _settings_read(acc)

    # ---- the student's state -------------------------------------------------------------------------------

    async def _student_document(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> tuple[Document, AssignmentAccess]:
        doc = await document_service.get(session, ctx, document_id)
        acc = await assignment_access(session, ctx, doc.assignment_id)
        if acc.course_role != STUDENT:
            raise PartnerStudentsOnly()
        return doc, acc

    async def current_level(self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID) -> Level:
        """The caller's level on this document: the latest level change, else the starting level."""
        latest = await LevelChangeRepository(session, _tenant(ctx)).latest(document_id, ctx.user_id)
        return Level(latest.to_level) if latest else levels.START

    async def _usage(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, now: datetime
    ) -> tuple[list[datetime], list[datetime]]:
        day = await ExchangeRepository(session, _tenant(ctx)).times_since(document_id, ctx.user_id, now - DAY)
        return [t for t in day if t > now - HOUR], day

    async def _level_read(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        level: Level,
        settings: AiSettings,
        eff: EffectiveSettings,
    ) -> LevelRead:
        per_hour, per_day = levels.budget(level, settings.budget_per_hour, settings.budget_per_day)
        hour, day = await self._usage(session, ctx, document_id, clock.utcnow())
        policy = levels.POLICY[level]
        return LevelRead(
            level=level,
            description=policy.description,
            kinds=sorted(levels.allowed_kinds(level, frozenset(eff.kinds))),
            max_bloom=policy.max_bloom,
            budget_per_hour=per_hour,
            budget_per_day=per_day,
            used_last_hour=len(hour),
            used_last_day=len(day),
        )

    async def reflection_due(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, settings: AiSettings
    ) -> Literal["initial", "follow_up"] | None:
        """Which reflection the gate waits for: none, the first one, or a follow-up after the last exchange."""
        if not settings.reflection_required:
            return None
        tenant_id = _tenant(ctx)
        last_ok = await ReflectionRepository(session, tenant_id).last_accepted_at(document_id, ctx.user_id)
        if last_ok is None:
            return "initial"
        if settings.follow_up_reflection:
            last_exchange = await ExchangeRepository(session, tenant_id).last_at(document_id, ctx.user_id)
            if last_exchange is not None and last_exchange > last_ok:
                return "follow_up"
        return None

    @staticmethod
    def min_words(settings: AiSettings, kind: ReflectionKind | str, first: bool) -> int:
        """A follow-up may be half as long; the first accepted reflection always needs the full minimum."""
        if first or kind == ReflectionKind.initial:
            return settings.reflection_min_words
        return settings.reflection_min_words // 2

    # ---- reflections ---------------------------------------------------------------------------------------

    async def reflect(
        self,
        read: AsyncSession,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        body: ReflectionCreate,
    ) -> ReflectionResult:
        """Score a reflection, store it and move the level at most one step (gamed ones never raise it).

        Refused in exam mode (409 ``PartnerDisabled``): exam mode turns off everything of the partner.
        """
        doc, acc = await self._student_document(read, ctx, document_id)
        settings, valid = load_settings(acc.assignment.ai_settings)
        settings = await budget_overrides.apply(read, acc.assignment, ctx.user_id, settings)
        eff = effective(settings, valid, current_stage(acc.assignment.stages, clock.utcnow()))
        if settings.exam_mode:
            raise PartnerDisabled(eff.reason, stage=eff.stage)
        tenant_id = _tenant(ctx)
        reflections = ReflectionRepository(session, tenant_id)
        # Everything from here on reads and writes in the write transaction, so two reflections sent at once
        # cannot both step the level from the same starting point.
        history = await reflections.for_document_user(doc.id, ctx.user_id)
        first = not any(r.accepted for r in history)
        minimum = self.min_words(settings, body.kind, first)
        scored = score_reflection(
            ReflectionInput(
                text=body.text,
                seconds_spent=body.seconds_spent,
                pasted_chars=body.pasted_chars,
                min_words=minimum,
                draft=doc.text,
                instructions=_plain(acc.assignment.instructions_md),
                earlier=await reflections.recent_texts(ctx.user_id),
            )
        )
        before = await self.current_level(session, ctx, doc.id)
        move = levels.step(
            before,
            [levels.Scored(r.total, r.gamed) for r in history] + [levels.Scored(scored.total, scored.gamed)],
        )
        row = await reflections.add(
            AiReflection(
                tenant_id=tenant_id,
                document_id=doc.id,
                user_id=ctx.user_id,
                kind=body.kind,
                text=body.text,
                word_count=scored.word_count,
                scores=scored.scores_json(),
                flags=scored.flags_json(),
                total=scored.total,
                gamed=scored.gamed,
                accepted=scored.accepted,
                typed_ratio=scored.typed_ratio,
                pasted_chars=body.pasted_chars,
                seconds_spent=body.seconds_spent,
                level_before=move.before,
                level_after=move.after,
            )
        )
        change = None
        if move.changed:
            change = await LevelChangeRepository(session, tenant_id).add(
                AiLevelChange(
                    tenant_id=tenant_id,
                    document_id=doc.id,
                    user_id=ctx.user_id,
                    reflection_id=row.id,
                    from_level=move.before,
                    to_level=move.after,
                    reason=move.reason,
                )
            )
            await audit.record(
                session,
                _entry(
                    ctx,
                    "ai_partner.level_changed",
                    "document",
                    doc.id,
                    from_level=move.before.value,
                    to_level=move.after.value,
                    reason=move.reason,
                    reflection_id=str(row.id),
                ),
            )
        summary = scored.summary + " " + ("Your level: " + move.reason if move.changed else move.reason)
        return ReflectionResult(
            reflection=_reflection_read(row),
            summary=summary,
            level=await self._level_read(session, ctx, doc.id, move.after, settings, eff),
            level_change=LevelChangeRead.model_validate(change) if change else None,
        )

    # ---- asking the partner --------------------------------------------------------------------------------

    def _check_budget(self, level: Level, settings: AiSettings, hour: list[datetime], day: list[datetime]) -> None:
        per_hour, per_day = levels.budget(level, settings.budget_per_hour, settings.budget_per_day)
        resets: list[datetime] = []
        if len(hour) >= per_hour:
            resets.append(hour[len(hour) - per_hour] + HOUR)
        if len(day) >= per_day:
            resets.append(day[len(day) - per_day] + DAY)
        if not resets:
            return
        when = max(resets)
        seconds = max(1, math.ceil((when - clock.utcnow()).total_seconds()))
        raise PartnerBudgetExhausted(
            f"You have used your {per_hour} requests an hour / {per_day} a day at the {level.value} level. "
            f"You can ask again at {when.strftime('%H:%M')} UTC (in about {max(1, round(seconds / 60))} min). "
            "Meanwhile, work on the questions you already have.",
            retry_after=seconds,
            resets_at=when.isoformat(),
            budget_per_hour=per_hour,
            budget_per_day=per_day,
        )

    async def ask(
        self,
        read: AsyncSession,
        session: AsyncSession,
        ctx: AuthContext,
        document_id: uuid.UUID,
        body: PartnerAsk,
        *,
        config: ProviderConfig | None = None,
    ) -> ExchangeRead:
        """Check the rules, ask the engine with no transaction open, and log the exchange."""
        doc, acc = await self._student_document(read, ctx, document_id)
        settings, valid = load_settings(acc.assignment.ai_settings)
        # A per-student budget (an educator's intervention) replaces the assignment's (ai_partner.budget).
        settings = await budget_overrides.apply(read, acc.assignment, ctx.user_id, settings)
        stage = current_stage(acc.assignment.stages, clock.utcnow())
        eff = effective(settings, valid, stage)
        if eff.enabled and doc.status == DocumentStatus.submitted:
            eff = eff.model_copy(update={"enabled": False, "reason": "This document has been submitted."})
        if not eff.enabled:
            raise PartnerDisabled(eff.reason, stage=eff.stage)
        due = await self.reflection_due(read, ctx, doc.id, settings)
        if due is not None:
            first = due == "initial"
            minimum = self.min_words(settings, ReflectionKind.initial if first else ReflectionKind.follow_up, first)
            raise ReflectionRequired(
                "Before you ask, write a short reflection on your own thinking "
                f"(at least {minimum} words): what you are trying to say and where you are stuck."
                if first
                else f"Before your next question, write a short follow-up (at least {minimum} words): "
                + FOLLOW_UP_PROMPT,
                due=due,
                min_words=minimum,
            )
        level = await self.current_level(read, ctx, doc.id)
        hour, day = await self._usage(read, ctx, doc.id, clock.utcnow())
        self._check_budget(level, settings, hour, day)
        allowed = levels.allowed_kinds(level, frozenset(HelpKind(k) for k in eff.kinds))
        if not allowed:
            raise PartnerDisabled(
                f"At your current level ({level.value}) the partner can help with "
                f"{', '.join(sorted(k.value.replace('_', ' ') for k in levels.POLICY[level].kinds))}, and your "
                "teacher allows none of these in this stage. Write a thoughtful reflection to raise your level.",
                stage=eff.stage,
            )
        request = PartnerRequest(
            question=body.question,
            draft=doc.text,
            stage=eff.stage,
            level=level,
            allowed=allowed,
            max_bloom=levels.POLICY[level].max_bloom,
            assignment_title=acc.assignment.title,
            instructions=_plain(acc.assignment.instructions_md),
            names=_names_of(ctx),
        )
        revision, words = doc.revision, doc.word_count
        if config is None:  # the institution's provider, read in this read transaction (docs: Provider settings)
            config = await provider_config_for(read, _tenant(ctx))
        # No pooled connection is held while the engine (maybe a remote provider) works: the read transaction
        # ends here (nothing has been written), and the write transaction begins after the answer (STYLE T6).
        await release(read)
        answer = await engine.answer(request, config)
        return await self._log(session, ctx, doc, level, settings, request, answer, revision, words)

    async def _log(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        doc: Document,
        level: Level,
        settings: AiSettings,
        request: PartnerRequest,
        answer: PartnerAnswer,
        revision: int,
        words: int,
    ) -> ExchangeRead:
        # Requests sent at the same moment could all have passed the check above: count again in the write
        # transaction, serialised per student and document, so the budget holds.
        await ExchangeRepository(session, _tenant(ctx)).lock_budget(doc.id, ctx.user_id)
        hour, day = await self._usage(session, ctx, doc.id, clock.utcnow())
        self._check_budget(level, settings, hour, day)
        row = await ExchangeRepository(session, _tenant(ctx)).add(
            AiExchange(
                tenant_id=_tenant(ctx),
                document_id=doc.id,
                assignment_id=doc.assignment_id,
                user_id=ctx.user_id,
                stage=request.stage,
                question=request.question,
                answer={
                    "questions": list(answer.questions),
                    "refusal": answer.refusal,
                    "bank_version": answer.bank_version,
                },
                provider=answer.provider,
                verdicts=[{"ok": v.ok, "reasons": list(v.reasons)} for v in answer.verdicts],
                fell_back=answer.fell_back,
                level=level,
                kind=answer.kind.value if answer.kind else None,
                latency_ms=round(answer.latency_ms, 3),
                draft_revision=revision,
                draft_words=words,
            )
        )
        return _exchange_read(row, FOLLOW_UP_PROMPT if settings.follow_up_reflection else None)

    # ---- transparency --------------------------------------------------------------------------------------

    async def history(
        self, session: AsyncSession, audit_session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID
    ) -> HistoryRead:
        """Reflections, exchanges and level changes on a document: a student sees their own, staff everyone's
        (staff reading it is written to the audit trail)."""
        doc = await document_service.get(session, ctx, document_id)
        acc = await assignment_access(session, ctx, doc.assignment_id)
        tenant_id = _tenant(ctx)
        student = acc.course_role == STUDENT
        user_id = ctx.user_id if student else None
        reflections = await ReflectionRepository(session, tenant_id).for_document(doc.id)
        if user_id is not None:
            reflections = [r for r in reflections if r.user_id == user_id]
        exchanges = await ExchangeRepository(session, tenant_id).for_document(doc.id, user_id)
        changes = await LevelChangeRepository(session, tenant_id).for_document(doc.id, user_id)
        level = due = None
        if student:
            settings, valid = load_settings(acc.assignment.ai_settings)
            settings = await budget_overrides.apply(session, acc.assignment, ctx.user_id, settings)
            eff = effective(settings, valid, current_stage(acc.assignment.stages, clock.utcnow()))
            current = Level(changes[-1].to_level) if changes else levels.START
            level = await self._level_read(session, ctx, doc.id, current, settings, eff)
            due = await self.reflection_due(session, ctx, doc.id, settings)
        else:
            await audit.record(audit_session, _entry(ctx, "ai_partner.history_viewed", "document", doc.id))
        return HistoryRead(
            document_id=doc.id,
            level=level,
            reflection_due=due,
            reflections=[_reflection_read(r) for r in reflections],
            exchanges=[_exchange_read(e) for e in exchanges],
            level_changes=[LevelChangeRead.model_validate(c) for c in changes],
        )

    async def summary(
        self, session: AsyncSession, audit_session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID
    ) -> AssignmentSummary:
        """Per student of the assignment: requests, level, reflection scores over time, an over-reliance signal.

        Lists every student with a document, a reflection or a request on the assignment (staff only; audited).
        """
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role == STUDENT:
            raise PartnerStaffOnly()
        tenant_id = _tenant(ctx)
        people = PeopleRepository(session, tenant_id)
        docs = await people.documents(assignment_id)
        words = {d: n for d, _, n in docs}
        counts = await ExchangeRepository(session, tenant_id).counts_for_assignment(assignment_id)
        reflections = await ReflectionRepository(session, tenant_id).for_assignment(assignment_id)
        current = await LevelChangeRepository(session, tenant_id).latest_for_assignment(assignment_id)

        keys: dict[uuid.UUID, uuid.UUID | None] = {}  # user -> their document on this assignment
        for d, owner, _ in docs:
            if owner is not None:
                keys[owner] = d
        requests: dict[uuid.UUID, tuple[int, int]] = defaultdict(lambda: (0, 0))
        for user, d, n, fb in counts:
            keys.setdefault(user, d)
            r, f = requests[user]
            requests[user] = (r + n, f + fb)
        by_user: dict[uuid.UUID, list[AiReflection]] = defaultdict(list)
        for r in reflections:
            keys.setdefault(r.user_id, r.document_id)
            by_user[r.user_id].append(r)
        names = await people.names(list(keys))
        rows = []
        for user, d in keys.items():
            n, fb = requests[user]
            mine = by_user[user]
            written = words.get(d, 0) if d else 0
            per100 = round(n / written * 100, 2) if written else None
            over, why = False, None
            if n >= OVER_RELIANCE_MIN_REQUESTS and (per100 is None or per100 > OVER_RELIANCE_PER_100_WORDS):
                over = True
                why = (
                    f"{n} requests with nothing written yet"
                    if per100 is None
                    else f"{n} requests for {written} words ({per100} per 100 words; the signal starts above "
                    f"{OVER_RELIANCE_PER_100_WORDS:g})"
                )
            counted = [r.total for r in mine if not r.gamed]
            rows.append(
                StudentSummary(
                    user_id=user,
                    name=names.get(user, ""),
                    document_id=d,
                    requests=n,
                    fallbacks=fb,
                    level=Level(current.get((d, user), levels.START)) if d else levels.START,
                    reflections=len(mine),
                    gamed_reflections=sum(1 for r in mine if r.gamed),
                    mean_reflection_score=round(sum(counted) / len(counted), 2) if counted else None,
                    reflection_scores=[{"at": r.created_at, "total": r.total, "gamed": r.gamed} for r in mine],
                    words_written=written,
                    requests_per_100_words=per100,
                    over_reliance=over,
                    over_reliance_reason=why,
                )
            )
        rows.sort(key=lambda s: (s.name.lower(), str(s.user_id)))
        await audit.record(
            audit_session, _entry(ctx, "ai_partner.summary_viewed", "assignment", assignment_id, students=len(rows))
        )
        return AssignmentSummary(assignment_id=assignment_id, students=rows)


partner = PartnerService()


def _names_of(ctx: AuthContext) -> tuple[str, ...]:
    """What identifies the student in their own words: full name, each part of it, the email's local part."""
    full = ctx.display_name.strip()
    parts = [p for p in re.split(r"[\s.]+", full) if len(p) >= 2]
    local = ctx.email.split("@", 1)[0]
    return tuple(dict.fromkeys([full, *parts, local, *[p for p in re.split(r"[._-]+", local) if len(p) >= 2]]))
