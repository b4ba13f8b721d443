"""Analytics computed from histories written through the real batch path, with a controlled clock.

Each expected figure is worked out by hand from the history in the test (see the comments).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from scribetree.analytics.exceptions import AnalyticsNotFound, InvalidRange
from scribetree.analytics.models import DailyActivityRow, DocumentMetricsRow
from scribetree.analytics.service import analytics
from scribetree.core import clock, db
from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment
from scribetree.tenancy.context import AuthContext
from scribetree.writing.schemas import BatchCreate, CheckpointCreate
from scribetree.writing.service import document as document_service
from tests.factories.writing import batch_body, dele, ins
from tests.writing.conftest import CtxFor, Klass

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@contextlib.contextmanager
def at(moment: datetime) -> Iterator[None]:
    """Run with ``clock.utcnow()`` at ``moment`` (plus the few milliseconds the code takes)."""
    with clock.travel(moment - datetime.now(UTC)):
        yield


def paste(pos: int, text: str) -> dict[str, Any]:
    return {"kind": "paste", "t": 1_764_000_000_000, "pos": pos, "text": text, "seen_in_doc": False}


class Writer:
    """A student's editor: sends batches through ``document_service.apply_batch`` at chosen moments."""

    def __init__(self, ctx: AuthContext, document_id: uuid.UUID) -> None:
        self.ctx, self.document_id = ctx, document_id
        self.text, self.revision, self.seq, self.sid = "", 0, 0, uuid.uuid4()

    @classmethod
    async def open(cls, ctx: AuthContext, assignment_id: uuid.UUID, moment: datetime) -> Writer:
        with at(moment):
            async with db.unit_of_work() as s:
                doc = await document_service.open_mine(s, ctx, assignment_id)
        return cls(ctx, doc.id)

    async def send(self, moment: datetime, raw: list[dict[str, Any]]) -> None:
        self.seq += 1
        body, after = batch_body(self.text, raw, seq=self.seq, base_revision=self.revision, session_id=self.sid)
        with at(moment):
            async with db.unit_of_work() as s:
                accepted = await document_service.apply_batch(s, self.ctx, self.document_id, BatchCreate(**body))
        self.text, self.revision = after, accepted.revision

    async def end(self) -> str:
        return self.text


HISTORY: list[tuple[float, list[dict[str, Any]]]] = [
    (0, [ins(0, "Hello world")]),  # +2 words, +11 chars
    (3, [ins(11, " again")]),  # gap 3 s; +1 word, +6 chars: "Hello world again"
    (6, [dele(6, 6)]),  # gap 3 s; removes "world " (1 word, 6 chars): "Hello again"
    (56, [ins(11, " Done.")]),  # gap 50 s (a pause, still active); +1 word: "Hello again Done."
    (756, [paste(17, " Pasted text here")]),  # gap 700 s > 600 s idle: a new session; +3 words, a paste of 17
]


async def write_history(w: Writer, start: datetime = T0) -> None:
    for seconds, raw in HISTORY:
        await w.send(start + timedelta(seconds=seconds), raw)


async def refresh(tenant_id: uuid.UUID, document_id: uuid.UUID) -> int:
    async with db.unit_of_work() as s:
        return await analytics.refresh_document(s, tenant_id, document_id)


async def metrics_row(document_id: uuid.UUID) -> DocumentMetricsRow:
    async with db.unit_of_work(write=False) as s:
        row = (await s.scalars(select(DocumentMetricsRow).where(DocumentMetricsRow.document_id == document_id))).one()
        s.expunge(row)
        return row


async def day_rows(document_id: uuid.UUID) -> list[tuple[Any, ...]]:
    async with db.unit_of_work(write=False) as s:
        stmt = select(DailyActivityRow).where(DailyActivityRow.document_id == document_id)
        rows = (await s.scalars(stmt.order_by(DailyActivityRow.day))).all()
        return [
            (
                r.user_id,
                r.day,
                r.batches,
                r.active_seconds,
                r.words_added,
                r.words_deleted,
                r.word_delta,
                r.pastes,
                r.pasted_chars,
                r.chars_inserted,
                r.chars_deleted,
            )
            for r in rows
        ]


async def set_assignment(assignment_id: uuid.UUID, **values: Any) -> None:
    async with db.unit_of_work() as s:
        a = await s.get(Assignment, assignment_id)
        assert a is not None
        for k, v in values.items():
            setattr(a, k, v)


class TestDocumentMetrics:
    async def test_hand_computed_history(self, klass: Klass, ctx_for: CtxFor) -> None:
        await set_assignment(
            klass.assignment.id,
            published_at=T0 - timedelta(hours=1),
            word_min=10,
            stages=[
                {"key": "draft", "label": "Draft", "due_at": (T0 + timedelta(days=1)).isoformat()},
                {"key": "final", "label": "Final", "due_at": (T0 + timedelta(days=2)).isoformat()},
            ],
        )
        ctx = await ctx_for(klass.student, klass.tenant)
        w = await Writer.open(ctx, klass.assignment.id, T0 - timedelta(seconds=60))
        await write_history(w)
        assert await refresh(klass.tenant.id, w.document_id) == 5
        async with db.unit_of_work(write=False) as s:
            m = await analytics.document_metrics(s, ctx, w.document_id)
        assert w.text == "Hello again Done. Pasted text here"
        assert (m.batches, m.sessions, m.revision, m.stale) == (5, 2, 5, False)
        assert m.active_minutes == round((3 + 3 + 50) / 60, 1)  # gaps up to 60 s; the 700 s gap is not active
        assert (m.words_added, m.words_deleted, m.word_count) == (7, 1, 6)
        assert (m.chars_inserted, m.chars_deleted, m.pastes, m.pasted_chars) == (40, 6, 1, 17)
        assert (m.typed_to_final, m.deleted_to_added) == (round(7 / 6, 3), round(1 / 7, 3))
        assert {g.label: g.count for g in m.gaps if g.count} == {"2-5 s": 2, "30-60 s": 1, "10-60 min": 1}
        assert (m.pauses, m.pause_minutes, m.bursts) == (1, round(50 / 60, 1), 0)
        assert clock.as_utc(m.first_words_at) - T0 < timedelta(seconds=1)  # type: ignore[arg-type]
        assert m.seconds_to_first_words_from_publish == 3600
        assert m.seconds_to_first_words_from_open == 60
        assert m.style is not None and (m.style.words, m.style.sentences) == (6, 2)
        # targets: ceil(10 * 1/2) = 5 by the end of day 1, 10 by day 2; the text has 6 words since T0
        assert [(p.key, p.target_words, p.words_at_due, p.status) for p in m.stages] == [
            ("draft", 5, 6, "met"),
            ("final", 10, 6, "missed"),
        ]
        assert m.ai.exchanges == 0 and m.ai.reflections == 0
        assert await day_rows(w.document_id) == [(klass.student.id, T0.date(), 5, 56, 7, 1, 6, 1, 17, 40, 6)]

    async def test_a_burst_of_fast_typing(self, klass: Klass, ctx_for: CtxFor) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        w = await Writer.open(ctx, klass.assignment.id, T0)
        word = "abcdefghi "  # 10 code points, 1 word
        for i in range(12):  # 2 s apart: one run; it reaches 100 code points at the 10th batch
            await w.send(T0 + timedelta(seconds=2 * i), [ins(len(w.text), word)])
        await w.send(T0 + timedelta(seconds=60), [ins(len(w.text), word)])  # after a 38 s gap: a new run
        await refresh(klass.tenant.id, w.document_id)
        row = await metrics_row(w.document_id)
        assert (row.bursts, row.longest_burst_chars, row.run_chars) == (1, 120, 10)

    async def test_refreshing_after_every_batch_equals_refreshing_once(self, klass: Klass, ctx_for: CtxFor) -> None:
        """The incremental path (refresh after each batch, as the periodic job would) and a single catch-up
        over the whole log end in the same figures."""
        a = Writer(await ctx_for(klass.student, klass.tenant), uuid.uuid4())
        b = Writer(await ctx_for(klass.classmate, klass.tenant), uuid.uuid4())
        a = await Writer.open(a.ctx, klass.assignment.id, T0)
        b = await Writer.open(b.ctx, klass.assignment.id, T0)
        for i, (seconds, raw) in enumerate([*HISTORY, (90_000, [dele(0, 6)])]):
            await a.send(T0 + timedelta(seconds=seconds), raw)
            await b.send(T0 + timedelta(seconds=seconds), raw)
            assert await refresh(klass.tenant.id, a.document_id) == 1
            if i == 2:
                assert await refresh(klass.tenant.id, a.document_id) == 0  # nothing new: nothing folded
        assert await refresh(klass.tenant.id, b.document_id) == 6
        skip = {
            "document_id",
            "wm_batch_id",
            "wm_received_at",
            "first_batch_at",
            "first_words_at",
            "last_batch_at",
            "seen_activity_at",
        }
        cols = [c.key for c in DocumentMetricsRow.__table__.columns if c.key not in skip]
        ra, rb = await metrics_row(a.document_id), await metrics_row(b.document_id)
        assert {c: getattr(ra, c) for c in cols} == {c: getattr(rb, c) for c in cols}
        assert ra.text == a.text == "again Done. Pasted text here"
        days_a = [r[1:] for r in await day_rows(a.document_id)]
        days_b = [r[1:] for r in await day_rows(b.document_id)]
        assert days_a == days_b and len(days_a) == 2  # the last batch is on the next day

    async def test_a_restore_in_the_middle_of_the_log(self, klass: Klass, ctx_for: CtxFor) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        w = await Writer.open(ctx, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "First words here")])
        with at(T0 + timedelta(seconds=10)):
            async with db.unit_of_work() as s:
                v = await document_service.checkpoint(s, ctx, w.document_id, CheckpointCreate(name="one"))
                version_id = v.id
        await w.send(T0 + timedelta(seconds=20), [ins(16, " and more")])
        await refresh(klass.tenant.id, w.document_id)  # the watermark is at revision 2
        with at(T0 + timedelta(seconds=30)):
            async with db.unit_of_work() as s:
                doc = await document_service.restore(s, ctx, w.document_id, version_id)
                w.text, w.revision = "First words here", doc.revision
        await w.send(T0 + timedelta(seconds=40), [ins(0, "The ")])  # based on the restored revision 3
        await refresh(klass.tenant.id, w.document_id)
        row = await metrics_row(w.document_id)
        assert (row.text, row.wm_revision) == ("The First words here", 4)
        assert (row.words_added, row.words_deleted) == (3 + 2 + 1, 0)
        # a restore with no batch after it: the figures take the restored text
        with at(T0 + timedelta(seconds=50)):
            async with db.unit_of_work() as s:
                await document_service.restore(s, ctx, w.document_id, version_id)
        async with db.unit_of_work() as s:
            assert (await analytics.refresh_tenant(s, klass.tenant.id)).documents == 1
        row = await metrics_row(w.document_id)
        assert (row.text, row.wm_revision, row.style["words"]) == ("First words here", 5, 3)
        async with db.unit_of_work() as s:
            assert (await analytics.refresh_tenant(s, klass.tenant.id)).documents == 0  # caught up

    async def test_a_refresh_in_one_session_reads_back_what_it_wrote(self, klass: Klass, ctx_for: CtxFor) -> None:
        """The write phase updates the metrics rows without loading them (one executemany); a row the same session
        read in its compute phase must not keep the old figures."""
        w = await Writer.open(await ctx_for(klass.student, klass.tenant), klass.assignment.id, T0)
        await write_history(w)
        assert await refresh(klass.tenant.id, w.document_id) == 5
        await w.send(T0 + timedelta(seconds=900), [ins(len(w.text), " More words")])
        row_of = select(DocumentMetricsRow).where(DocumentMetricsRow.document_id == w.document_id)
        async with db.unit_of_work() as s:
            before = (await s.scalars(row_of)).one()  # held by the session: its compute phase reads it too
            assert (before.batches, before.words_added) == (5, 7)
            assert await analytics.refresh_document(s, klass.tenant.id, w.document_id) == 1
            after = (await s.scalars(row_of)).one()
            assert after is before and (after.batches, after.words_added, after.text) == (6, 9, w.text)
        row = await metrics_row(w.document_id)
        assert (row.batches, row.words_added, row.wm_revision) == (6, 9, 6)


class TestAccess:
    async def test_who_sees_what(self, klass: Klass, ctx_for: CtxFor) -> None:
        student = await ctx_for(klass.student, klass.tenant)
        classmate = await ctx_for(klass.classmate, klass.tenant)
        ta = await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await write_history(w)
        async with db.unit_of_work() as s:
            with pytest.raises(AnalyticsNotFound):
                await analytics.document_metrics(s, classmate, w.document_id)
            with pytest.raises(AnalyticsNotFound):
                await analytics.student_metrics(s, classmate, klass.course.id, klass.student.id)
            with pytest.raises(AnalyticsNotFound):
                await analytics.course_metrics(s, student, klass.course.id)
            with pytest.raises(AnalyticsNotFound):
                await analytics.assignment_metrics(s, student, klass.assignment.id)
            with pytest.raises(AnalyticsNotFound):
                await analytics.daily_activity(s, student, klass.course.id)
            with pytest.raises(AnalyticsNotFound):  # staff, but the user is not a student of the course
                await analytics.student_metrics(s, ta, klass.course.id, klass.instructor.id)
            with pytest.raises(InvalidRange):
                await analytics.daily_activity(s, student, klass.course.id, klass.student.id, days=0)
            own = await analytics.student_metrics(s, student, klass.course.id, klass.student.id, audit_session=s)
        # the student's own page caught the document up on the way (no job ran)
        assert [d.words_added for d in own.documents] == [7] and own.documents[0].stale is False
        assert [(d.day, d.words_added, d.active_minutes) for d in own.daily] == [(T0.date(), 7, 0.9)]
        async with db.unit_of_work() as s:
            seen = await analytics.student_metrics(s, ta, klass.course.id, klass.student.id, audit_session=s)
            await analytics.course_metrics(s, ta, klass.course.id, audit_session=s)
        assert seen.name == "Ada Student" and seen.words_added == 7
        async with db.unit_of_work(write=False) as s:
            audited = (
                await s.execute(
                    select(AuditEvent.actor_user_id, AuditEvent.target_type, AuditEvent.target_id).where(
                        AuditEvent.action == "analytics.viewed"
                    )
                )
            ).all()
        # the student's own read is not audited; the TA's two reads are
        assert sorted(audited, key=str) == sorted(
            [(klass.ta.id, "user", str(klass.student.id)), (klass.ta.id, "course", str(klass.course.id))], key=str
        )


class TestClassViews:
    async def test_assignment_and_course(self, klass: Klass, ctx_for: CtxFor) -> None:
        await set_assignment(
            klass.assignment.id,
            word_min=8,
            stages=[{"key": "draft", "label": "Draft", "due_at": (T0 + timedelta(days=1)).isoformat()}],
        )
        student = await ctx_for(klass.student, klass.tenant)
        ta = await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await write_history(w)
        async with db.unit_of_work() as s:
            m = await analytics.assignment_metrics(s, ta, klass.assignment.id)
            assert m.stale_documents == 1  # class pages read the aggregates as they are
            await analytics.refresh_tenant(s, klass.tenant.id)
        async with db.unit_of_work() as s:
            m = await analytics.assignment_metrics(s, ta, klass.assignment.id)
            c = await analytics.course_metrics(s, ta, klass.course.id)
            daily = await analytics.daily_activity(s, ta, klass.course.id, days=366)
        assert (m.students, m.started, m.submitted, m.median_words, m.stale_documents) == (2, 1, 0, 6, 0)
        rows = {r.name: r for r in m.rows}
        assert rows["Ada Student"].words_added == 7 and rows["Bea Classmate"].document_id is None
        assert [r.stages[0].status for r in m.rows] == ["missed", "missed"]  # 6 < 8 words by the due day
        assert [(sc.key, sc.met, sc.students, sc.share) for sc in m.stage_completion] == [("draft", 0, 2, 0.0)]
        assert c.students == 2 and [a.started for a in c.assignments] == [1]
        assert {s.name: s.word_count for s in c.student_rows} == {"Ada Student": 6, "Bea Classmate": 0}
        assert [(p.day, p.words_added, p.active_students) for p in c.progress if p.day == T0.date()] == [
            (T0.date(), 7, 1)
        ]
        assert c.cumulative_words[-1] == 6
        assert [(d.day, d.word_delta) for d in daily] == [(T0.date(), 6)]

    async def test_the_course_view_is_reused_until_its_figures_change(self, klass: Klass, ctx_for: CtxFor) -> None:
        student, ta = await ctx_for(klass.student, klass.tenant), await ctx_for(klass.ta, klass.tenant)
        w = await Writer.open(student, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "One two")])
        async with db.unit_of_work() as s:
            await analytics.refresh_tenant(s, klass.tenant.id)
        async with db.unit_of_work() as s:
            first = await analytics.course_metrics(s, ta, klass.course.id, audit_session=s)
            again = await analytics.course_metrics(s, ta, klass.course.id, audit_session=s)
        assert again is first and first.student_rows[0].words_added == 2
        await w.send(T0 + timedelta(seconds=3), [ins(7, " three")])
        async with db.unit_of_work() as s:
            assert (await analytics.course_metrics(s, ta, klass.course.id)) is first  # not folded yet: same figures
            await analytics.refresh_tenant(s, klass.tenant.id)
        async with db.unit_of_work() as s:
            after = await analytics.course_metrics(s, ta, klass.course.id)
        assert after is not first and after.student_rows[0].words_added == 3
        async with db.unit_of_work(write=False) as s:
            audited = await s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "analytics.viewed", AuditEvent.target_id == str(klass.course.id))
            )
        assert audited == 2  # every read with an audit session is audited, cached or not


class TestStyleCache:
    async def test_style_follows_the_text(self, klass: Klass, ctx_for: CtxFor) -> None:
        ctx = await ctx_for(klass.student, klass.tenant)
        w = await Writer.open(ctx, klass.assignment.id, T0)
        await w.send(T0, [ins(0, "One sentence here.")])
        await refresh(klass.tenant.id, w.document_id)
        assert (await metrics_row(w.document_id)).style["sentences"] == 1
        await w.send(T0 + timedelta(seconds=5), [ins(18, " Another one.")])
        await refresh(klass.tenant.id, w.document_id)
        row = await metrics_row(w.document_id)
        assert (row.style["sentences"], row.style_revision) == (2, 2)
