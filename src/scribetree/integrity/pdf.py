"""The printable report of a submission: process figures, flags and the student's responses, similarity, and the
submitted text with its pasted passages highlighted. Rendered to PDF with WeasyPrint (pango), or served as the
same print-styled HTML.

The data is gathered here from the writing service (the submission, its text, the log read once a page at a
time) plus, when they exist, the integrity report's flags and responses and the similarity summary. Everything
the student wrote is escaped (Jinja autoescape); the template has no logic beyond loops.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.identity.service import identity
from scribetree.integrity.replay import PasteSpans, Span
from scribetree.tenancy.context import AuthContext
from scribetree.writing import ops
from scribetree.writing.service import document as document_service

TEMPLATES = Path(__file__).parent / "templates"
LOG_PAGE = 1000
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True)


@dataclass
class FlagItem:
    title: str
    explanation: str
    evidence: list[str] = field(default_factory=list)
    clears_if: str = ""
    responses: list[str] = field(default_factory=list)  # the student's answers, shown with the flag


@dataclass
class SimilarityItem:
    other: str
    percent: float
    passages: list[tuple[str, str]] = field(default_factory=list)  # (this text, the other text)


@dataclass
class ReportData:
    assignment_title: str
    student_name: str
    submission_id: uuid.UUID
    attempt: int
    submitted_at: datetime
    late: bool
    revision: int
    content_hash: str
    word_count: int
    ai_statement: str | None
    text: str
    pasted: list[Span]
    figures: list[tuple[str, str]]
    flags: list[FlagItem] | None = None  # None: no integrity report yet (not "no flags")
    outcome: str | None = None
    similarity: list[SimilarityItem] | None = None
    generated_at: datetime = field(default_factory=clock.utcnow)


def _escape_text(text: str) -> Markup:
    return Markup("&#13;").join(escape(part) for part in text.split("\r"))


def highlighted(text: str, spans: list[Span]) -> Markup:
    """The text with each pasted span in ``<mark>``; everything escaped, nothing added between pieces."""
    out: list[Markup] = []
    at = 0
    for s in sorted(spans, key=lambda s: s.start):
        if s.start < at or s.end > len(text) or s.start >= s.end:
            continue
        out.append(_escape_text(text[at : s.start]))
        label = "pasted (seen earlier in this document)" if s.seen_in_doc else "pasted"
        out.append(Markup('<mark class="paste" title="{}">').format(label) + _escape_text(text[s.start : s.end]))
        out.append(Markup("</mark>"))
        at = s.end
    out.append(_escape_text(text[at:]))
    return Markup("").join(out)


def _minutes(seconds: float) -> str:
    return f"{round(seconds / 60)} min"


class ReportService:
    async def gather(
        self,
        session: AsyncSession,
        ctx: AuthContext,
        submission_id: uuid.UUID,
        *,
        audit_session: AsyncSession | None = None,
    ) -> ReportData:
        """Everything the report shows, for the submission's author or the course's staff (staff reads audited)."""
        receipt = await document_service.receipt(session, ctx, submission_id)
        doc = await document_service.read(
            session, ctx, receipt.document_id, audit_session=audit_session, what="report", submission=str(submission_id)
        )
        if doc.owner_user_id is not None:
            owner = (await identity.users_by_ids(session, [doc.owner_user_id])).get(doc.owner_user_id)
            name = owner.display_name if owner else "A former student"
        else:
            name = "A group"
        text = await document_service.rebuild(session, doc, receipt.revision)
        spans = PasteSpans()
        typed = pasted = pastes = focus_lost = batches = 0
        revision = 0
        after: uuid.UUID | None = None
        while True:
            page = await document_service.log_page(session, doc, after, LOG_PAGE)
            for b in page:
                if b.revision > receipt.revision:
                    continue
                batches += 1
                if b.base_revision != revision and b.revision != b.base_revision:
                    spans = PasteSpans()  # a restore replaced the text: earlier paste positions no longer apply
                at = clock.as_utc(b.received_at)
                for o in ops.parse_ops(b.ops):
                    spans.apply(o, at)
                    if o.kind == "paste":
                        pastes += 1
                        pasted += len(o.text)
                    elif o.kind == "insert":
                        typed += len(o.text)
                    elif o.kind == "focus" and o.state == "lost":
                        focus_lost += 1
                revision = b.revision
            if len(page) < LOG_PAGE:
                break
            after = page[-1].id
        sessions = await document_service.list_sessions(session, ctx, doc.id)
        in_final = sum(s.end - s.start for s in spans.spans)
        share = f"{100 * in_final / len(text):.0f}%" if text else "0%"
        figures = [
            ("Writing sessions", str(len(sessions))),
            ("Active writing time", _minutes(sum(s.active_seconds for s in sessions))),
            ("Batches of edits", f"{batches:,}"),
            ("Characters typed", f"{typed:,}"),
            ("Pastes", f"{pastes:,} ({pasted:,} characters)"),
            ("Share of the submitted text that arrived by paste", share),
            ("Times the editor lost focus", f"{focus_lost:,}"),
        ]
        return ReportData(
            assignment_title=receipt.assignment_title,
            student_name=name,
            submission_id=receipt.submission_id,
            attempt=receipt.attempt,
            submitted_at=clock.as_utc(receipt.submitted_at),
            late=receipt.late,
            revision=receipt.revision,
            content_hash=receipt.content_hash,
            word_count=receipt.word_count,
            ai_statement=receipt.ai_statement,
            text=text,
            pasted=spans.spans,
            figures=figures,
        )

    def html(self, data: ReportData) -> str:
        return _env.get_template("report.html").render(r=data, text_html=highlighted(data.text, data.pasted))

    async def pdf(self, data: ReportData) -> bytes:
        """The report as PDF (WeasyPrint in a worker thread: rendering takes a moment and must not block the loop)."""
        markup = self.html(data)

        def render() -> bytes:
            from weasyprint import HTML  # imported here: it loads pango and fonts (about a second)

            out = HTML(string=markup).write_pdf()
            assert out is not None
            return bytes(out)

        return await asyncio.to_thread(render)


report = ReportService()
