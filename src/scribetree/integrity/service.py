"""The process evidence report of a submission: compute (and cache), show, respond, record outcomes.

Who sees what:

- the course's staff (instructor, teaching assistant, institution admin) see every report of the course, with
  comparisons against the student's own other submissions and, when at least ``CLASS_MIN`` submissions of the
  assignment have reports, against the class (median/MAD robust z-scores); they record outcomes;
- the student sees their own report after submitting (before, as a draft report, when the assignment's
  setting allows it), never comparisons or other students' figures, and can respond to any flag;
- every view of a report by anyone is written to the audit trail (``integrity.report_viewed``).

Other integrity modules add sections to the report without this module knowing them: a module named in
``SECTION_MODULES`` that defines ``async def report_section(session, ctx, report) -> dict | None`` (``report``
is the :class:`IntegrityReportRead` being built) has its answer shown under ``sections[<module's last name>]``.
The PDF and export modules call :meth:`IntegrityService.report` for the report itself.
"""

from __future__ import annotations

import importlib
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import audit, clock
from scribetree.courses.service import assignment_access
from scribetree.integrity import evidence as ev_mod
from scribetree.integrity import flags as flags_mod
from scribetree.integrity.exceptions import (
    AuthorOnly,
    InvalidSort,
    InvalidText,
    ReportNotFound,
    ReportNotYetVisible,
    StaffOnly,
    UnknownFlag,
)
from scribetree.integrity.models import IntegrityOutcome, IntegrityReport, IntegrityResponse, IntegritySettings
from scribetree.integrity.repository import (
    IntegrityOutcomeRepository,
    IntegrityReportRepository,
    IntegrityResponseRepository,
    IntegritySettingsRepository,
)
from scribetree.integrity.schemas import (
    SORT_KEYS,
    AssignmentIntegrityRow,
    Comparison,
    FlagRead,
    IntegrityReportRead,
    OutcomeCreate,
    OutcomeRead,
    ResponseCreate,
    ResponseRead,
    SettingsRead,
    SettingsUpdate,
)
from scribetree.tenancy.context import AuthContext
from scribetree.writing.exceptions import DocumentNotFound, SubmissionNotFound
from scribetree.writing.models import Document, VersionKind
from scribetree.writing.service import document as document_service

STUDENT = "student"
CLASS_MIN = 8  # reports needed in an assignment before the class comparison is shown
LOG_PAGE = 2000  # batches per query when the log is read for a report
SECTION_MODULES = ("scribetree.integrity.similarity", "scribetree.integrity.style_drift")
REPORT_FLAG = "report"  # a response to the report as a whole
COMPARED = (
    ("active_minutes_per_100_words", "Active minutes per 100 words"),
    ("revision_ratio", "Typed ÷ final characters"),
    ("external_paste_share", "Share pasted from outside"),
    ("pauses_per_100_words", "Pauses (≥ 2 s) per 100 words"),
)


@dataclass(frozen=True)
class _Target:
    """A submission (or a draft document) the caller may see, and how."""

    document: Document
    assignment_id: uuid.UUID
    staff: bool
    submission_id: uuid.UUID | None
    attempt: int | None
    revision: int
    submitted_at: datetime | None
    student_user_id: uuid.UUID | None


def _clean(text: str, field: str) -> str:
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InvalidText(f"'{field}' contains a NUL character or an unpaired surrogate, which cannot be stored.")
    text = text.strip()
    if not text and field == "text":
        raise InvalidText("Write a response (it cannot be only spaces).")
    return text


def _figures(report: dict[str, Any]) -> dict[str, float | None]:
    p = report.get("process", {})
    share = report.get("composition_share", {})
    return {
        "active_minutes_per_100_words": p.get("active_minutes_per_100_words"),
        "revision_ratio": p.get("revision_ratio"),
        "external_paste_share": share.get(ev_mod.EXTERNAL),
        "pauses_per_100_words": p.get("pauses_per_100_words"),
    }


def robust_z(value: float | None, others: list[float]) -> tuple[float | None, float | None]:
    """``(median, z)`` with z = (value - median) / (1.4826 MAD); z is None when MAD is 0 or data is missing."""
    if value is None or not others:
        return None, None
    med = statistics.median(others)
    mad = statistics.median(abs(x - med) for x in others) * 1.4826
    return med, (round((value - med) / mad, 2) if mad > 0 else None)


def _compare(mine: dict[str, float | None], pool: list[dict[str, float | None]]) -> list[Comparison]:
    out = []
    for key, _label in COMPARED:
        values = [float(v) for p in pool if (v := p.get(key)) is not None]
        med, z = robust_z(mine.get(key), values)
        out.append(Comparison(figure=key, value=mine.get(key), median=med, robust_z=z, n=len(values)))
    return out


class IntegrityService:
    # ---- targets and access -----------------------------------------------------------------------------

    async def _submission(self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> _Target:
        try:
            receipt = await document_service.receipt(session, ctx, submission_id)
            doc = await document_service.read(session, ctx, receipt.document_id)
        except (SubmissionNotFound, DocumentNotFound):
            raise ReportNotFound() from None
        acc = await assignment_access(session, ctx, receipt.assignment_id)
        return _Target(
            document=doc,
            assignment_id=receipt.assignment_id,
            staff=acc.course_role != STUDENT,
            submission_id=receipt.submission_id,
            attempt=receipt.attempt,
            revision=receipt.revision,
            submitted_at=receipt.submitted_at,
            student_user_id=doc.owner_user_id or receipt.submitted_by,
        )

    async def check_visible(self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID) -> None:
        """404 ``ReportNotFound`` unless the caller may see the submission's report (forms check this first)."""
        await self._submission(session, ctx, submission_id)

    # ---- computing --------------------------------------------------------------------------------------

    async def compute(self, session: AsyncSession, target: _Target) -> ev_mod.Evidence:
        """Replay the log up to the target's revision (and submission time) and measure."""
        doc = target.document
        batches: list[ev_mod.Batch] = []
        after: uuid.UUID | None = None
        cutoff = target.submitted_at
        while True:
            page = await document_service.log_page(session, doc, after, LOG_PAGE)
            for b in page:
                if b.revision > target.revision or (cutoff is not None and b.received_at > cutoff):
                    continue
                batches.append(
                    ev_mod.Batch(
                        ops=b.ops,
                        base_revision=b.base_revision,
                        revision=b.revision,
                        author=str(b.author_user_id) if b.author_user_id else None,
                    )
                )
            if len(page) < LOG_PAGE:
                break
            after = page[-1].id
        restores: dict[int, str] = {}
        for v in await document_service.versions_of(session, doc):
            if v.kind == VersionKind.restore and v.revision <= target.revision:
                restores[v.revision] = await document_service.rebuild(session, doc, v.revision)
        final = await document_service.rebuild(session, doc, target.revision)
        opened = int(doc.created_at.timestamp() * 1000) if doc.created_at else None
        return ev_mod.compute(batches, final, restores=restores, opened_at_ms=opened)

    async def _cached(
        self, session: AsyncSession, write: AsyncSession, ctx: AuthContext | None, target: _Target
    ) -> tuple[IntegrityReport, str]:
        """The submission's cached report (computed and stored when missing or from an older algorithm)."""
        assert target.submission_id is not None
        tenant_id = target.document.tenant_id
        row = await IntegrityReportRepository(session, tenant_id).for_submission(target.submission_id)
        final = await document_service.rebuild(session, target.document, target.revision)
        if row is not None and row.algorithm == ev_mod.ALGORITHM:
            return row, final
        ev = await self.compute(session, target)
        raised = flags_mod.evaluate(ev)
        body = ev.to_json() | {"flags": [f.to_json() for f in raised]}
        values = {
            "algorithm": ev_mod.ALGORITHM,
            "report": body,
            "flag_codes": [f.code for f in raised],
            "final_chars": ev.final_chars,
            "final_words": ev.final_words,
            "typed_share": ev.composition_share[ev_mod.TYPED] + ev.composition_share[ev_mod.ASSISTIVE],
            "external_paste_share": ev.composition_share[ev_mod.EXTERNAL],
            "revision_ratio": ev.process["revision_ratio"] or 0.0,
            "active_seconds": ev.process["active_seconds"],
            "sessions": ev.process["sessions"],
            "computed_at": clock.utcnow(),
        }
        repo = IntegrityReportRepository(write, tenant_id)
        existing = await repo.for_submission(target.submission_id)
        if existing is not None:
            for k, v in values.items():
                setattr(existing, k, v)
            await write.flush()
            return existing, final
        new = IntegrityReport(
            tenant_id=tenant_id,
            submission_id=target.submission_id,
            document_id=target.document.id,
            assignment_id=target.assignment_id,
            student_user_id=target.student_user_id,
            **values,
        )
        try:
            async with write.begin_nested():
                write.add(new)
                await write.flush()
        except IntegrityError:  # computed by a concurrent request: theirs is the same
            found = await repo.for_submission(target.submission_id)
            assert found is not None
            return found, final
        return new, final

    async def precompute(self, session: AsyncSession, tenant_id: uuid.UUID, submission_id: uuid.UUID) -> bool:
        """Compute and cache a submission's report without a viewer (the job after a submission), so the
        student's history and the class comparison are there before anyone opens a report. Idempotent: False
        when the report was already cached (or the submission is gone)."""
        repo = IntegrityReportRepository(session, tenant_id)
        cached = await repo.for_submission(submission_id)
        if cached is not None and cached.algorithm == ev_mod.ALGORITHM:
            return False
        sub = await repo.submission(submission_id)
        doc = await repo.document(sub.document_id) if sub is not None else None
        if sub is None or doc is None:
            return False
        target = _Target(
            document=doc,
            assignment_id=sub.assignment_id,
            staff=True,
            submission_id=sub.id,
            attempt=sub.attempt,
            revision=sub.revision,
            submitted_at=sub.submitted_at,
            student_user_id=doc.owner_user_id or sub.submitted_by,
        )
        await self._cached(session, session, None, target)
        return True

    # ---- reading ----------------------------------------------------------------------------------------

    async def report(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, *, write: AsyncSession
    ) -> IntegrityReportRead:
        """A submission's report for its student or the course's staff (404 for anyone else); audited."""
        target = await self._submission(session, ctx, submission_id)
        row, final = await self._cached(session, write, ctx, target)
        tenant_id = target.document.tenant_id
        responses = await IntegrityResponseRepository(write, tenant_id).of_submission(submission_id)
        out = IntegrityReportRead(
            submission_id=submission_id,
            document_id=target.document.id,
            assignment_id=target.assignment_id,
            student_user_id=target.student_user_id,
            attempt=target.attempt,
            submitted_at=target.submitted_at,
            algorithm=row.algorithm,
            computed_at=row.computed_at,
            viewer="staff" if target.staff else "student",
            text=final,
            evidence={k: v for k, v in row.report.items() if k != "flags"},
            flags=[FlagRead(**f) for f in row.report.get("flags", [])],
            responses=[ResponseRead.model_validate(r) for r in responses],
        )
        if target.staff:
            outcomes = await IntegrityOutcomeRepository(write, tenant_id).of_submission(submission_id)
            out.outcomes = [OutcomeRead.model_validate(o) for o in outcomes]
            mine = _figures(row.report)
            if target.student_user_id is not None:
                own = await IntegrityReportRepository(session, tenant_id).of_student(
                    target.student_user_id, exclude=submission_id
                )
                if own:
                    out.self_comparison = _compare(mine, [_figures(r.report) for r in own])
            # the class: one report per other student (or group), their most recent one
            latest: dict[uuid.UUID, IntegrityReport] = {}
            for r in await IntegrityReportRepository(session, tenant_id).of_assignment(target.assignment_id):
                if r.document_id != target.document.id:
                    kept = latest.get(r.document_id)
                    if kept is None or r.created_at > kept.created_at:
                        latest[r.document_id] = r
            cls = list(latest.values())
            if len(cls) + 1 >= CLASS_MIN:
                out.class_comparison = _compare(mine, [_figures(r.report) for r in cls])
        out.sections = await self._sections(session, ctx, out)
        await audit.record(
            write,
            self._entry(
                ctx, "integrity.report_viewed", submission_id, document_id=str(target.document.id), viewer=out.viewer
            ),
        )
        return out

    async def _sections(self, session: AsyncSession, ctx: AuthContext, report: IntegrityReportRead) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        for name in SECTION_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            provider = getattr(module, "report_section", None)
            if provider is None:
                continue
            section = await provider(session, ctx, report)
            if section is not None:
                sections[name.rsplit(".", 1)[1]] = section
        return sections

    async def draft_report(
        self, session: AsyncSession, ctx: AuthContext, document_id: uuid.UUID, *, write: AsyncSession
    ) -> IntegrityReportRead:
        """The report of a document's current text before submission: for staff, and for its student when the
        assignment allows it (403 ``ReportNotYetVisible`` otherwise). Computed each time, not cached."""
        try:
            doc = await document_service.read(session, ctx, document_id)
        except DocumentNotFound:
            raise ReportNotFound() from None
        acc = await assignment_access(session, ctx, doc.assignment_id)
        staff = acc.course_role != STUDENT
        if not staff:
            settings = await IntegritySettingsRepository(session, doc.tenant_id).for_assignment(doc.assignment_id)
            if settings is None or not settings.students_see_before_submission:
                raise ReportNotYetVisible()
        target = _Target(doc, doc.assignment_id, staff, None, None, doc.revision, None, doc.owner_user_id)
        ev = await self.compute(session, target)
        raised = flags_mod.evaluate(ev)
        await audit.record(
            write,
            self._entry(
                ctx,
                "integrity.report_viewed",
                doc.id,
                target_type="document",
                draft=True,
                revision=doc.revision,
                viewer="staff" if staff else "student",
            ),
        )
        return IntegrityReportRead(
            submission_id=None,
            document_id=doc.id,
            assignment_id=doc.assignment_id,
            student_user_id=doc.owner_user_id,
            attempt=None,
            submitted_at=None,
            algorithm=ev_mod.ALGORITHM,
            computed_at=clock.utcnow(),
            viewer="staff" if staff else "student",
            text=doc.text,
            evidence=ev.to_json(),
            flags=[FlagRead(**f.to_json()) for f in raised],
            responses=[],
        )

    # ---- the student's voice, the educator's outcome ------------------------------------------------------

    async def respond(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, data: ResponseCreate
    ) -> IntegrityResponse:
        """The student's response to one of the report's flags (or to the report): stored, shown with the report,
        included in its export. Only the submission's student (or group member) may respond."""
        target = await self._submission(session, ctx, submission_id)
        if target.staff:
            raise AuthorOnly()
        text = _clean(data.text, "text")
        row, _ = await self._cached(session, session, ctx, target)
        if data.flag_code != REPORT_FLAG and data.flag_code not in row.flag_codes:
            raise UnknownFlag(
                f"The flag {data.flag_code[:60]!r} is not raised on this report. Respond to one of: "
                f"{', '.join([*row.flag_codes, REPORT_FLAG])}."
            )
        response = IntegrityResponse(
            tenant_id=target.document.tenant_id,
            submission_id=submission_id,
            flag_code=data.flag_code,
            author_user_id=ctx.user_id,
            text=text,
        )
        session.add(response)
        await session.flush()
        await audit.record(session, self._entry(ctx, "integrity.response_added", submission_id, flag=data.flag_code))
        return response

    async def record_outcome(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, data: OutcomeCreate
    ) -> IntegrityOutcome:
        """Staff record what came of a report (no concern / discussed with the student / referred) with a note."""
        target = await self._submission(session, ctx, submission_id)
        if not target.staff:
            raise StaffOnly()
        outcome = IntegrityOutcome(
            tenant_id=target.document.tenant_id,
            submission_id=submission_id,
            outcome=data.outcome,
            note=_clean(data.note, "note"),
            recorded_by=ctx.user_id,
        )
        session.add(outcome)
        await session.flush()
        await audit.record(
            session, self._entry(ctx, "integrity.outcome_recorded", submission_id, outcome=str(data.outcome))
        )
        return outcome

    def _entry(
        self, ctx: AuthContext, action: str, target_id: uuid.UUID, target_type: str = "submission", **details: object
    ) -> audit.Entry:
        return audit.Entry(
            action=action,
            tenant_id=ctx.tenant_id,
            actor_user_id=ctx.user_id,
            actor_label=ctx.actor_label,
            meta=ctx.meta,
            target_type=target_type,
            target_id=str(target_id),
            details=dict(details),
        )

    # ---- per assignment -----------------------------------------------------------------------------------

    async def get_settings(self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID) -> SettingsRead:
        """Whether students see their report before submitting (anyone in the course may read it)."""
        acc = await assignment_access(session, ctx, assignment_id)
        row = await IntegritySettingsRepository(session, acc.assignment.tenant_id).for_assignment(assignment_id)
        return SettingsRead(
            assignment_id=assignment_id, students_see_before_submission=bool(row and row.students_see_before_submission)
        )

    async def update_settings(
        self, session: AsyncSession, ctx: AuthContext, assignment_id: uuid.UUID, data: SettingsUpdate
    ) -> SettingsRead:
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role == STUDENT:
            raise StaffOnly()
        repo = IntegritySettingsRepository(session, acc.assignment.tenant_id)
        row = await repo.for_assignment(assignment_id)
        if row is None:
            row = IntegritySettings(tenant_id=acc.assignment.tenant_id, assignment_id=assignment_id)
            session.add(row)
        row.students_see_before_submission = data.students_see_before_submission
        row.updated_by = ctx.user_id
        await session.flush()
        await audit.record(
            session,
            self._entry(
                ctx,
                "integrity.settings_changed",
                assignment_id,
                target_type="assignment",
                students_see_before_submission=data.students_see_before_submission,
            ),
        )
        return SettingsRead(
            assignment_id=assignment_id, students_see_before_submission=row.students_see_before_submission
        )

    async def assignment_table(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        assignment_id: uuid.UUID,
        *,
        write: AsyncSession,
        sort: str = "flags",
        descending: bool = True,
    ) -> list[AssignmentIntegrityRow]:
        """Staff: the latest submission of every student (or group) with its flags and key process figures.
        Reports not yet computed are computed now (and cached). Audited as one view of every listed report."""
        acc = await assignment_access(session, ctx, assignment_id)
        if acc.course_role == STUDENT:
            raise StaffOnly()
        if sort not in SORT_KEYS:
            raise InvalidSort(f"Sort by one of: {', '.join(SORT_KEYS)}.")
        tenant_id = acc.assignment.tenant_id
        overview = await document_service.assignment_overview(session, ctx, assignment_id)
        names = {r.document_id: r.name for r in overview}
        reports = IntegrityReportRepository(session, tenant_id)
        subs = await reports.latest_submissions(assignment_id)
        cached = {r.submission_id: r for r in await reports.of_assignment(assignment_id)}
        ids = [s.id for s in subs]
        counts = await IntegrityResponseRepository(session, tenant_id).counts(ids)
        outcomes = await IntegrityOutcomeRepository(session, tenant_id).latest_of(ids)
        rows = []
        for s in subs:
            rep = cached.get(s.id)
            if rep is None or rep.algorithm != ev_mod.ALGORITHM:
                target = await self._submission(session, ctx, s.id)
                rep, _ = await self._cached(session, write, ctx, target)
            o = outcomes.get(s.id)
            rows.append(
                AssignmentIntegrityRow(
                    submission_id=s.id,
                    document_id=s.document_id,
                    student_user_id=rep.student_user_id,
                    name=names.get(s.document_id, "(unknown)"),
                    attempt=s.attempt,
                    submitted_at=s.submitted_at,
                    words=rep.final_words,
                    flags=list(rep.flag_codes),
                    typed_share=round(rep.typed_share, 4),
                    external_paste_share=round(rep.external_paste_share, 4),
                    revision_ratio=rep.revision_ratio,
                    active_minutes=round(rep.active_seconds / 60, 1),
                    sessions=rep.sessions,
                    responses=counts.get(s.id, 0),
                    outcome=o.outcome if o else None,
                )
            )

        def key(r: AssignmentIntegrityRow) -> Any:
            if sort == "flags":
                return (len(r.flags), r.external_paste_share)
            if sort == "name":
                return r.name.casefold()
            return getattr(r, sort)

        rows.sort(key=key, reverse=descending)
        await audit.record(
            write,
            self._entry(ctx, "integrity.table_viewed", assignment_id, target_type="assignment", submissions=len(rows)),
        )
        return rows


integrity = IntegrityService()
