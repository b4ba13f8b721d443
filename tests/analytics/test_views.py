"""The document, student and assignment views over stored AI partner use, and the reuse of the assignment view."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from scribetree.ai_partner.models import AiExchange, AiReflection
from scribetree.analytics.service import analytics
from scribetree.core import db
from scribetree.core.audit import AuditEvent
from tests.analytics.test_service import T0, Writer, refresh
from tests.factories.writing import ins
from tests.writing.conftest import CtxFor, Klass


def exchange(klass: Klass, document_id: uuid.UUID, user_id: uuid.UUID, level: str, at: datetime) -> AiExchange:
    return AiExchange(
        tenant_id=klass.tenant.id,
        document_id=document_id,
        assignment_id=klass.assignment.id,
        user_id=user_id,
        question="What next?",
        answer={"questions": []},
        provider="builtin",
        level=level,
        created_at=at,
    )


def reflection(
    klass: Klass, document_id: uuid.UUID, user_id: uuid.UUID, total: int, gamed: bool, at: datetime
) -> AiReflection:
    return AiReflection(
        tenant_id=klass.tenant.id,
        document_id=document_id,
        user_id=user_id,
        kind="initial",
        text="I will change the order.",
        word_count=5,
        scores={},
        total=total,
        gamed=gamed,
        typed_ratio=1.0,
        level_before="standard",
        level_after="standard",
        created_at=at,
    )


class TestAiUse:
    async def test_document_and_student_views(self, klass: Klass, ctx_for: CtxFor) -> None:
        student, ta = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "One two three")])
        hour, day = timedelta(hours=1), timedelta(days=1)
        me, other = klass.student.id, klass.classmate.id
        async with db.unit_of_work() as s:
            s.add_all(
                [
                    exchange(klass, w.document_id, me, "guided", T0 + hour),
                    exchange(klass, w.document_id, me, "guided", T0 + 2 * hour),
                    exchange(klass, w.document_id, me, "standard", T0 + day),  # the latest
                    exchange(klass, w.document_id, other, "guided", T0 + 3 * hour),  # someone else's (a group's)
                    reflection(klass, w.document_id, me, 12, False, T0 + hour),
                    reflection(klass, w.document_id, me, 20, True, T0 + day),  # gamed: no score
                    reflection(klass, w.document_id, other, 8, False, T0),
                ]
            )
        await refresh(klass.tenant.id, w.document_id)
        async with db.unit_of_work() as s:
            doc = await analytics.document_metrics(s, ta, w.document_id, audit_session=s)
            mine = await analytics.student_metrics(s, ta, klass.course.id, me, audit_session=s)
            assignment = await analytics.assignment_metrics(s, ta, klass.assignment.id, audit_session=s)
        # the document's use counts every author; the student's days only their own
        assert (doc.ai.exchanges, doc.ai.levels, doc.ai.last_level) == (4, {"guided": 3, "standard": 1}, "standard")
        assert (doc.ai.reflections, doc.ai.reflection_mean_total, doc.ai.gamed_reflections) == (3, 10.0, 1)
        assert mine.documents[0].ai == doc.ai
        assert [(d.day, d.exchanges, d.reflections, d.reflection_mean_total) for d in mine.ai_daily] == [
            (T0.date(), 2, 1, 12.0),
            ((T0 + day).date(), 1, 1, None),
        ]
        assert assignment.ai_exchanges == 4
        rows = {r.user_id: r for r in assignment.rows}
        assert (rows[me].ai_exchanges, rows[me].reflection_mean_total) == (3, 12.0)


class TestAssignmentReuse:
    async def test_the_assignment_view_is_reused_until_its_figures_change(self, klass: Klass, ctx_for: CtxFor) -> None:
        student, ta = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "One two")])
        await refresh(klass.tenant.id, w.document_id)
        async with db.unit_of_work() as s:
            first = await analytics.assignment_metrics(s, ta, klass.assignment.id, audit_session=s)
            again = await analytics.assignment_metrics(s, ta, klass.assignment.id, audit_session=s)
        assert again is first and first.rows[0].words_added == 2
        await w.send(T0 + timedelta(seconds=3), [ins(7, " three")])
        async with db.unit_of_work() as s:  # not folded yet: the same figures
            assert (await analytics.assignment_metrics(s, ta, klass.assignment.id)) is first
        await refresh(klass.tenant.id, w.document_id)
        async with db.unit_of_work() as s:
            after = await analytics.assignment_metrics(s, ta, klass.assignment.id)
        assert after is not first and {r.words_added for r in after.rows} == {3, 0}
        async with db.unit_of_work() as s:  # the assignment itself changed: computed again
            a = await s.get(type(klass.assignment), klass.assignment.id)
            assert a is not None
            a.word_min = 5
        async with db.unit_of_work() as s:
            changed = await analytics.assignment_metrics(s, ta, klass.assignment.id)
        assert changed is not after and changed.word_min == 5
        async with db.unit_of_work(write=False) as s:
            audited = await s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "analytics.viewed", AuditEvent.target_id == str(klass.assignment.id))
            )
        assert audited == 2  # every read with an audit session is audited, reused or not

    async def test_the_class_daily_series_is_reused_until_a_fold(self, klass: Klass, ctx_for: CtxFor) -> None:
        student, ta = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "One two")])
        await refresh(klass.tenant.id, w.document_id)
        async with db.unit_of_work(write=False) as s:
            first = await analytics.daily_activity(s, ta, klass.course.id, days=366)
            mine = await analytics.daily_activity(s, student, klass.course.id, klass.student.id, days=366)
        assert [(d.day, d.words_added) for d in first] == [(T0.date(), 2)] == [(d.day, d.words_added) for d in mine]
        await w.send(T0 + timedelta(seconds=3), [ins(7, " three")])
        async with db.unit_of_work(write=False) as s:  # not folded yet: the same figures
            assert [d.words_added for d in await analytics.daily_activity(s, ta, klass.course.id, days=366)] == [2]
        await refresh(klass.tenant.id, w.document_id)
        async with db.unit_of_work(write=False) as s:
            after = await analytics.daily_activity(s, ta, klass.course.id, days=366)
            shorter = await analytics.daily_activity(s, ta, klass.course.id, days=1)  # another range
        assert [d.words_added for d in after] == [3] and shorter == []
