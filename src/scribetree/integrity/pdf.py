"""The printable report of a submission: process figures, flags and the student's responses, similarity, and the
submitted text with its pasted passages highlighted. Rendered to PDF with WeasyPrint (pango), or served as the
same print-styled HTML.

The data is the integrity report's (``integrity.service``: composition, process figures, pasted runs of the final
text, flags, the student's responses, outcomes for staff, the similarity section when present) plus the
submission's receipt from the writing service. Everything the student wrote is escaped (Jinja autoescape); the
template has no logic beyond loops.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.identity.service import identity
from scribetree.integrity.service import REPORT_FLAG
from scribetree.integrity.service import integrity as integrity_service
from scribetree.tenancy.context import AuthContext
from scribetree.writing.service import document as document_service

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True)


@dataclass(frozen=True, slots=True)
class Span:
    """A pasted run of the submitted text: ``[start, end)`` in code points."""

    start: int
    end: int
    moved: bool = False  # pasted from the student's own text in this document (a move), not from outside


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
    flags: list[FlagItem] | None = None  # None: no integrity report (not "no flags")
    general_responses: list[str] = field(default_factory=list)  # answers to the report as a whole
    outcomes: list[str] = field(default_factory=list)  # staff only
    similarity: list[SimilarityItem] | None = None
    notes: list[str] = field(default_factory=list)
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
        label = "moved within the document" if s.moved else "pasted"
        out.append(Markup('<mark class="paste" title="{}">').format(label) + _escape_text(text[s.start : s.end]))
        out.append(Markup("</mark>"))
        at = s.end
    out.append(_escape_text(text[at:]))
    return Markup("").join(out)


def _minutes(seconds: float) -> str:
    return f"{round(seconds / 60)} min"


def _pct(share: Any) -> str:
    return f"{100 * share:.0f}%" if isinstance(share, int | float) else "n/a"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v[:10]) + (" …" if len(v) > 10 else "")
    return str(v)


def _figures(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    process = evidence.get("process", {})
    share = evidence.get("composition_share", {})
    rows = [
        ("Typed here", _pct(share.get("typed"))),
        ("Pasted from outside the document", _pct(share.get("pasted_external"))),
        ("Moved within the document (cut or copied and pasted back)", _pct(share.get("pasted_internal"))),
        ("Entered by assistive input (IME, dictation, autocorrect)", _pct(share.get("assistive"))),
        ("Writing sessions", _value(process.get("sessions", "n/a"))),
        ("Active writing time", _minutes(process.get("active_seconds", 0))),
        ("Characters typed", f"{process.get('chars_typed', 0):,}"),
        ("Revision ratio (typed ÷ final)", _value(process.get("revision_ratio", "n/a"))),
        ("Linearity (share written at the end of the text)", _value(process.get("linearity", "n/a"))),
        ("Long pauses", _value(process.get("long_pauses", "n/a"))),
        ("Times the editor lost focus", _value(process.get("focus_losses", "n/a"))),
        ("Pastes", str(len(evidence.get("pastes", [])))),
    ]
    return rows


def _similarity(section: Any) -> list[SimilarityItem] | None:
    """The similarity section when the similarity module provides one (shape of ``SimilarityRead``)."""
    if not isinstance(section, dict):
        return None
    items = []
    for m in section.get("matches", []) or []:
        other = m.get("other") or {}
        passages = []
        for p in (m.get("passages") or [])[:5]:
            here = (p.get("here") or {}).get("text", "")
            there = (p.get("there") or {}).get("text", "") if p.get("there") else "(not shown to you)"
            passages.append((here, there))
        items.append(
            SimilarityItem(
                other=other.get("assignment_title") or "Another submission",
                percent=float(m.get("share_percent") or 0),
                passages=passages,
            )
        )
    return items


class ReportService:
    async def gather(
        self, session: AsyncSession, ctx: AuthContext, submission_id: uuid.UUID, *, write: AsyncSession
    ) -> ReportData:
        """Everything the report shows, for the submission's author or the course's staff (404 for anyone else).

        The flags, responses, outcomes, composition and pasted runs are the integrity report's
        (``integrity.service``, which audits the view); ``write`` is the request's write session.
        """
        receipt = await document_service.receipt(session, ctx, submission_id)
        rep = await integrity_service.report(session, ctx, submission_id, write=write)
        doc = await document_service.read(session, ctx, receipt.document_id)
        if doc.owner_user_id is not None:
            owner = (await identity.users_by_ids(session, [doc.owner_user_id])).get(doc.owner_user_id)
            name = owner.display_name if owner else "A former student"
        else:
            name = "A group"
        by_flag: dict[str, list[str]] = {}
        for r in rep.responses:
            by_flag.setdefault(r.flag_code, []).append(r.text)
        flags = [
            FlagItem(
                title=f.title,
                explanation=f"{f.explanation} Measured {_value(f.measured)}; threshold {f.comparison} "
                f"{_value(f.threshold)}.",
                evidence=[", ".join(f"{k}: {_value(v)}" for k, v in e.items()) for e in f.evidence[:8]],
                clears_if=f.clears,
                responses=by_flag.get(f.code, []),
            )
            for f in rep.flags
        ]
        spans = [
            Span(h["start"], h["end"], moved=h["origin"] == "pasted_internal")
            for h in rep.evidence.get("highlights", [])
            if h.get("origin") in ("pasted_external", "pasted_internal")
        ]
        notes = []
        if not rep.evidence.get("consistent", True):
            notes.append("The recorded log does not reproduce the submitted text exactly; figures may be incomplete.")
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
            text=rep.text,
            pasted=spans,
            figures=_figures(rep.evidence),
            flags=flags,
            general_responses=by_flag.get(REPORT_FLAG, []),
            outcomes=[f"{o.outcome}: {o.note}" if o.note else str(o.outcome) for o in rep.outcomes],
            similarity=_similarity(rep.sections.get("similarity")),
            notes=notes,
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
