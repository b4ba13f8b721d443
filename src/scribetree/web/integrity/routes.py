"""Process evidence pages: ``/submissions/{id}/integrity`` (the report: highlighted document, flags with their
evidence, the student's responses, the educator's outcomes) and ``/assignments/{id}/integrity`` (staff: the
sortable table of submissions with flags and key figures, and the visibility setting).

Adapters only: the rules are ``integrity.service``'s (who sees what, every view audited). Student text is plain
text, escaped everywhere; the document is built here so no whitespace is added or lost.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from pydantic import ValidationError

from scribetree.core.http import ReadSession, UnitOfWorkRoute, WriteSession
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.integrity import auth
from scribetree.integrity.evidence import ORIGINS
from scribetree.integrity.schemas import SORT_KEYS, OutcomeCreate, ResponseCreate, SettingsUpdate
from scribetree.integrity.service import integrity as integrity_service
from scribetree.web.pages import parse_id, redirect, render

router = APIRouter(route_class=UnitOfWorkRoute)
FormStr = Annotated[str, Form()]

ORIGIN_LABELS = {
    "typed": "Typed here",
    "assistive": "Typed with assistive input (IME, dictation, autocorrect, drop)",
    "pasted_external": "Pasted from outside this document",
    "pasted_internal": "Moved or copied within the document",
    "undo_redo": "Undo / redo",
    "unknown": "From a restored version",
}
OUTCOME_LABELS = {"no_concern": "No concern", "discussed": "Discussed with the student", "referred": "Referred"}
FIGURE_LABELS = {
    "active_minutes_per_100_words": "Active minutes per 100 words",
    "revision_ratio": "Typed ÷ final characters",
    "external_paste_share": "Share pasted from outside",
    "pauses_per_100_words": "Pauses (≥ 2 s) per 100 words",
}
COLUMNS = (
    ("name", "Student"),
    ("flags", "Flags"),
    ("words", "Words"),
    ("typed_share", "Typed"),
    ("external_paste_share", "Pasted from outside"),
    ("revision_ratio", "Typed ÷ final"),
    ("active_minutes", "Active minutes"),
    ("sessions", "Sessions"),
    ("submitted_at", "Submitted"),
)


def _escape(chunk: str) -> Markup:
    return Markup("&#13;").join(escape(part) for part in chunk.split("\r"))


def document_html(text: str, highlights: list[dict[str, Any]]) -> Markup:
    """The final text with every non-typed run in a ``<mark>`` (pastes get an id the flags link to)."""
    out: list[Markup] = []
    at = 0
    seen: set[int] = set()
    for h in sorted(highlights, key=lambda x: x["start"]):
        start, end = max(at, int(h["start"])), min(len(text), int(h["end"]))
        if start >= end:
            continue
        out.append(_escape(text[at:start]))
        paste = h.get("paste")
        ident = Markup("")
        if paste is not None and paste not in seen:
            seen.add(paste)
            ident = Markup(' id="paste-{}" tabindex="-1"').format(paste)
        label = ORIGIN_LABELS.get(h["origin"], h["origin"])
        out.append(
            Markup('<mark class="origin origin--{}"{} title="{}">{}</mark>').format(
                h["origin"], ident, label, _escape(text[start:end])
            )
        )
        at = end
    out.append(_escape(text[at:]))
    return Markup("").join(out)


@router.get("/submissions/{submission_id}/integrity", include_in_schema=False)
async def report_page(
    request: Request, submission_id: str, ctx: auth.IntegrityRead, session: ReadSession, write: WriteSession
) -> Response:
    report = await integrity_service.report(session, ctx, parse_id(submission_id), write=write)
    a = await assignment_service.get(session, ctx, report.assignment_id)
    course = await course_service.get_course(session, ctx, a.course_id)
    ev = report.evidence
    composition = [
        (ORIGIN_LABELS[k], ev["composition"].get(k, 0), ev["composition_share"].get(k, 0.0))
        for k in ORIGINS
        if ev["composition"].get(k)
    ]
    return await render(
        request,
        "integrity/report.html",
        session=session,
        title=f"Writing process: {a.title}",
        a=a,
        course=course,
        r=report,
        ev=ev,
        p=ev["process"],
        composition=composition,
        document=document_html(report.text, ev["highlights"]),
        flag_codes=[f.code for f in report.flags],
        paste_times={x["id"]: datetime.fromtimestamp(x["t"] / 1000, UTC) for x in ev["pastes"]},
        outcome_labels=OUTCOME_LABELS,
        figure_labels=FIGURE_LABELS,
        origin_labels=ORIGIN_LABELS,
    )


@router.post("/submissions/{submission_id}/integrity/responses", include_in_schema=False)
async def respond(
    request: Request,
    submission_id: str,
    ctx: auth.IntegrityWrite,
    session: WriteSession,
    flag_code: FormStr = "",
    text: FormStr = "",
) -> Response:
    sid = parse_id(submission_id)
    back = f"/submissions/{sid}/integrity"
    await integrity_service.check_visible(session, ctx, sid)
    try:
        data = ResponseCreate(flag_code=flag_code, text=text)
    except ValidationError:
        return redirect(f"{back}#respond", "Write your response first (up to 4,000 characters).", "error")
    await integrity_service.respond(session, ctx, sid, data)
    return redirect(f"{back}#responses", "Your response was added to the report.")


@router.post("/submissions/{submission_id}/integrity/outcomes", include_in_schema=False)
async def record_outcome(
    request: Request,
    submission_id: str,
    ctx: auth.IntegrityWrite,
    session: WriteSession,
    outcome: FormStr = "",
    note: FormStr = "",
) -> Response:
    sid = parse_id(submission_id)
    back = f"/submissions/{sid}/integrity"
    await integrity_service.check_visible(session, ctx, sid)
    try:
        data = OutcomeCreate.model_validate({"outcome": outcome, "note": note})
    except ValidationError:
        return redirect(f"{back}#outcome", "Choose an outcome (the note is up to 4,000 characters).", "error")
    await integrity_service.record_outcome(session, ctx, sid, data)
    return redirect(f"{back}#outcome", "The outcome was recorded.")


@router.get("/assignments/{assignment_id}/integrity", include_in_schema=False)
async def assignment_page(
    request: Request,
    assignment_id: str,
    ctx: auth.IntegrityRead,
    session: ReadSession,
    write: WriteSession,
    sort: str = "flags",
    order: str = "desc",
) -> Response:
    aid = parse_id(assignment_id)
    if sort not in SORT_KEYS:
        sort = "flags"
    descending = order != "asc"
    rows = await integrity_service.assignment_table(session, ctx, aid, write=write, sort=sort, descending=descending)
    a = await assignment_service.get(session, ctx, aid)
    course = await course_service.get_course(session, ctx, a.course_id)
    settings = await integrity_service.get_settings(session, ctx, aid)
    return await render(
        request,
        "integrity/assignment.html",
        session=session,
        title=f"Writing process: {a.title}",
        a=a,
        course=course,
        rows=rows,
        sort=sort,
        descending=descending,
        columns=COLUMNS,
        settings=settings,
        outcome_labels=OUTCOME_LABELS,
    )


@router.post("/assignments/{assignment_id}/integrity/settings", include_in_schema=False)
async def save_settings(
    request: Request, assignment_id: str, ctx: auth.IntegrityWrite, session: WriteSession, before: FormStr = ""
) -> Response:
    aid: uuid.UUID = parse_id(assignment_id)
    data = SettingsUpdate(students_see_before_submission=before == "on")
    await integrity_service.update_settings(session, ctx, aid, data)
    state = "can now" if data.students_see_before_submission else "now cannot"
    return redirect(f"/assignments/{aid}/integrity", f"Students {state} see their report before submitting.")
