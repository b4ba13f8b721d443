"""The MCP server: tools, resources and prompts over the domain services (docs/mcp.md).

``build_server()`` returns a fresh ``MCPServer`` (one per app: its session manager runs once). Every tool goes
through ``runtime.run_tool``: the caller's token becomes an AuthContext, the call runs in its own unit of work
against the same service the HTTP API uses, and an ``mcp.tool`` audit entry is written.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree import __version__
from scribetree.ai_partner.engine.types import HelpKind, Level, PartnerRequest
from scribetree.ai_partner.engine.validator import validate
from scribetree.ai_partner.levels import POLICY
from scribetree.ai_partner.reflection import DIMENSION_LABELS, ReflectionInput, score_reflection
from scribetree.ai_partner.schemas import AssignmentSummary as PartnerAssignmentSummary
from scribetree.ai_partner.schemas import HistoryRead
from scribetree.ai_partner.service import partner as partner_service
from scribetree.alerts.interventions import interventions as intervention_service
from scribetree.alerts.interventions_schemas import MESSAGE_MAX, SUBJECT_MAX, InterventionRead, MessageCreate
from scribetree.alerts.models import AlertStatus
from scribetree.alerts.schemas import AlertList
from scribetree.alerts.service import alerts as alert_service
from scribetree.analytics.profile import Profile, Statement
from scribetree.analytics.profile import profiles as profile_service
from scribetree.analytics.schemas import StudentMetrics, StyleMeasures
from scribetree.analytics.service import analytics as analytics_service
from scribetree.analytics.style import measure
from scribetree.courses.schemas import AssignmentRead
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.integrity.service import integrity as integrity_service
from scribetree.mcp import research as research_tools
from scribetree.mcp import schemas as out
from scribetree.mcp.runtime import DEFAULT_PAGE, page, run_tool, text_arg
from scribetree.tenancy.context import AuthContext
from scribetree.writing.feedback import feedback as feedback_service
from scribetree.writing.feedback_schemas import CommentBody, CommentCreate, CommentRead
from scribetree.writing.service import document as document_service
from scribetree.writing.service import document_read

INSTRUCTIONS = (
    "Scribe Tree: writing instruction with a bounded AI partner. Every tool acts as the person whose API token is "
    "used, with exactly their permissions in their institution. Lists are paginated: pass next_cursor back as "
    "'cursor'. Ids are UUIDs from earlier results (list_courses, my_assignments, list_assignments)."
)

MAX_TEXT = 200_000  # characters of a text to analyse (about 35,000 words)

Cursor = Annotated[str | None, Field(description="next_cursor of the previous page; omit for the first page")]
Limit = Annotated[int, Field(ge=1, le=200, description="items per page (1-200)")]


def build_server() -> MCPServer:
    server = MCPServer("scribetree", title="Scribe Tree", version=__version__, instructions=INSTRUCTIONS)
    _account_and_courses(server)
    _analysis(server)
    _insight(server)
    _feedback(server)
    research_tools.register(server)
    _resources(server)
    _prompts(server)
    return server


def _account_and_courses(server: MCPServer) -> None:
    @server.tool(description="Who this token acts as: name, institution, role and scopes.")
    async def whoami(ctx: Context) -> out.WhoAmI:
        async def go(_s: AsyncSession, a: AuthContext) -> out.WhoAmI:
            return out.WhoAmI(
                user_id=a.user_id,
                display_name=a.display_name,
                email=a.email,
                tenant_slug=a.tenant_slug,
                role=str(a.role) if a.role else None,
                scopes=sorted(str(s) for s in a.scopes),
            )

        return await run_tool(ctx, "whoami", {}, go)

    @server.tool(
        description="The courses you belong to (institution admins: every course), with your role in each. "
        "Archived courses are left out unless include_archived is true (staff only)."
    )
    async def list_courses(
        ctx: Context, include_archived: bool = False, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
    ) -> out.CoursePage:
        async def go(s: AsyncSession, a: AuthContext) -> out.CoursePage:
            rows = await course_service.list_courses(s, a, archived=None if include_archived else False)
            items, nxt, total = page(rows, cursor, limit)
            return out.CoursePage(items=items, next_cursor=nxt, total=total)

        return await run_tool(ctx, "list_courses", {"include_archived": include_archived, "limit": limit}, go)

    @server.tool(description="The assignments of one course. Staff see drafts too; students see published ones only.")
    async def list_assignments(
        ctx: Context, course_id: uuid.UUID, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
    ) -> out.AssignmentPage:
        async def go(s: AsyncSession, a: AuthContext) -> out.AssignmentPage:
            rows = await assignment_service.list_for_course(s, a, course_id)
            items, nxt, total = page([AssignmentRead.model_validate(r) for r in rows], cursor, limit)
            return out.AssignmentPage(items=items, next_cursor=nxt, total=total)

        return await run_tool(ctx, "list_assignments", {"course_id": str(course_id), "limit": limit}, go)

    @server.tool(
        description="Your own assignments across all your current courses, soonest due first (students: the "
        "published ones), with the course title and your role."
    )
    async def my_assignments(ctx: Context, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE) -> out.MyAssignmentPage:
        async def go(s: AsyncSession, a: AuthContext) -> out.MyAssignmentPage:
            rows = await assignment_service.list_mine(s, a, limit=1000)
            items, nxt, total = page(rows, cursor, limit)
            return out.MyAssignmentPage(items=items, next_cursor=nxt, total=total)

        return await run_tool(ctx, "my_assignments", {"limit": limit}, go)

    @server.tool(
        description="Staff: the overview of one assignment, one row per student (or group) with submission "
        "status, words, last activity, attempts and lateness. Students get an error."
    )
    async def assignment_overview(
        ctx: Context, assignment_id: uuid.UUID, cursor: Cursor = None, limit: Limit = DEFAULT_PAGE
    ) -> out.OverviewPage:
        async def go(s: AsyncSession, a: AuthContext) -> out.OverviewPage:
            rows = await document_service.assignment_overview(s, a, assignment_id)
            asg = await assignment_service.get(s, a, assignment_id)
            items, nxt, total = page(rows, cursor, limit)
            return out.OverviewPage(
                assignment_id=assignment_id, assignment_title=asg.title, items=items, next_cursor=nxt, total=total
            )

        return await run_tool(ctx, "assignment_overview", {"assignment_id": str(assignment_id), "limit": limit}, go)


def _analysis(server: MCPServer) -> None:
    @server.tool(
        description="Readability and style of a text: words, sentences, paragraphs, sentence-length variety, "
        "lexical diversity (type-token ratio, MTLD), Flesch reading ease and grade (English-calibrated). "
        "The text is not stored."
    )
    async def analyse_text(
        ctx: Context, text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    ) -> StyleMeasures:
        async def go(_s: AsyncSession, _a: AuthContext) -> StyleMeasures:
            return measure(text)

        return await run_tool(ctx, "analyse_text", {"text": text_arg(text)}, go)

    @server.tool(
        description="Check whether a piece of AI output respects Scribe Tree's bounded-AI rules, with the same "
        "validator the AI partner uses: 1-3 questions, nothing pasteable, quotes only of the student's own words, "
        "grounded in the draft, Bloom level within the access level. Returns ok and the codes of every rule broken."
    )
    async def validate_ai_output(
        ctx: Context,
        questions: Annotated[list[Annotated[str, Field(max_length=2_000)]], Field(max_length=10)],
        draft: Annotated[str, Field(max_length=MAX_TEXT)] = "",
        student_question: Annotated[str, Field(max_length=2_000)] = "",
        stage: Literal["brainstorm", "outline", "draft", "revise", "edit"] | None = None,
        level: Level = Level.standard,
        kind: HelpKind | None = None,
        assignment_title: Annotated[str, Field(max_length=300)] = "",
    ) -> out.ValidationVerdict:
        policy = POLICY[level]

        async def go(_s: AsyncSession, _a: AuthContext) -> out.ValidationVerdict:
            request = PartnerRequest(
                question=student_question,
                draft=draft,
                stage=stage,
                level=level,
                allowed=policy.kinds,
                max_bloom=policy.max_bloom,
                assignment_title=assignment_title,
            )
            verdict = validate(tuple(questions), request, kind=kind)
            return out.ValidationVerdict(
                ok=verdict.ok,
                reasons=list(verdict.reasons),
                level=level.value,
                allowed_kinds=sorted(k.value for k in policy.kinds),
                max_bloom=policy.max_bloom,
            )

        args = {
            "questions": len(questions),
            "draft": text_arg(draft),
            "stage": stage,
            "level": level.value,
            "kind": kind.value if kind else None,
        }
        return await run_tool(ctx, "validate_ai_output", args, go)

    @server.tool(
        name="score_reflection",
        description="Score a reflection with the AI partner's documented rubric (docs/ai_partner.md): five "
        "dimensions 0-4 (depth, self-awareness, critical engagement, growth, specificity), gaming flags, and "
        "whether it would count. Nothing is stored.",
    )
    async def score_reflection_text(
        ctx: Context,
        text: Annotated[str, Field(min_length=1, max_length=20_000)],
        draft: Annotated[str, Field(max_length=MAX_TEXT)] = "",
        min_words: Annotated[int, Field(ge=1, le=1_000)] = 50,
        seconds_spent: Annotated[int, Field(ge=0, le=86_400, description="time spent writing it")] = 300,
        pasted_chars: Annotated[int, Field(ge=0, le=1_000_000, description="characters pasted in")] = 0,
    ) -> out.ReflectionScore:
        async def go(_s: AsyncSession, _a: AuthContext) -> out.ReflectionScore:
            if pasted_chars > len(text):
                raise ToolError("InvalidInput: pasted_chars cannot be more than the text's length.")
            scored = score_reflection(
                ReflectionInput(
                    text=text, seconds_spent=seconds_spent, pasted_chars=pasted_chars, min_words=min_words, draft=draft
                )
            )
            return out.ReflectionScore(
                total=scored.total,
                word_count=scored.word_count,
                accepted=scored.accepted,
                gamed=scored.gamed,
                summary=scored.summary,
                scores=[
                    out.DimensionScoreOut(
                        dimension=k, label=DIMENSION_LABELS[k], score=v.score, reason=v.reason, improve=v.improve
                    )
                    for k, v in scored.scores.items()
                ],
                flags=[out.ReflectionFlagOut(code=f.code, message=f.message, voids=f.voids) for f in scored.flags],
            )

        args = {
            "text": text_arg(text),
            "draft": text_arg(draft),
            "min_words": min_words,
            "seconds_spent": seconds_spent,
            "pasted_chars": pasted_chars,
        }
        return await run_tool(ctx, "score_reflection", args, go)


def _insight(server: MCPServer) -> None:
    @server.tool(
        description="Staff: students needing attention in a course: the alerts raised by the course's rules (no "
        "activity, falling behind stages, heavy pasting, ...) with their evidence, newest first. By default the "
        "open and acknowledged ones. Reading them is recorded in the audit trail."
    )
    async def students_needing_attention(
        ctx: Context, course_id: uuid.UUID, include_closed: bool = False, student_user_id: uuid.UUID | None = None
    ) -> AlertList:
        statuses = None if include_closed else [AlertStatus.open, AlertStatus.acknowledged]

        async def go(s: AsyncSession, a: AuthContext) -> AlertList:
            return await alert_service.list_for_course(
                s, s, a, course_id, statuses=statuses, student_user_id=student_user_id
            )

        args = {"course_id": str(course_id), "include_closed": include_closed, "student_user_id": student_user_id}
        return await run_tool(ctx, "students_needing_attention", _ids(args), go)

    @server.tool(
        description="A student's writing analytics in a course: each document's figures (words, time, sessions, "
        "pasting, revisions, stage progress), daily activity and AI-partner use by day. Students may ask for "
        "their own (student_user_id = their user id, see whoami); staff for their course's students (audited)."
    )
    async def student_analytics(ctx: Context, course_id: uuid.UUID, student_user_id: uuid.UUID) -> StudentMetrics:
        async def go(s: AsyncSession, a: AuthContext) -> StudentMetrics:
            return await analytics_service.student_metrics(s, a, course_id, student_user_id, audit_session=s)

        args = {"course_id": course_id, "student_user_id": student_user_id}
        return await run_tool(ctx, "student_analytics", _ids(args), go)

    @server.tool(
        description="A learner profile in a course: the student's state (progressing, stalled, ...), writing "
        "patterns, strengths, areas to work on and independence from the AI partner, each with its evidence. "
        "Students may ask for their own (student_user_id = their user id, see whoami) and get the wording meant "
        "for them; staff for their course's students (audited)."
    )
    async def student_profile(ctx: Context, course_id: uuid.UUID, student_user_id: uuid.UUID) -> out.StudentProfile:
        async def go(s: AsyncSession, a: AuthContext) -> out.StudentProfile:
            prof, _ = await profile_service.student_profile(s, a, course_id, student_user_id, audit_session=s)
            # The service lets only the student themselves or the course's staff (and admins) through; the
            # student's own profile is only ever worded for them.
            return _profile_out(prof, "student" if a.user_id == student_user_id else "educator")

        args = {"course_id": course_id, "student_user_id": student_user_id}
        return await run_tool(ctx, "student_profile", _ids(args), go)

    @server.tool(
        description="A summary of a submission's integrity report (process evidence): the flags with what was "
        "measured and the threshold, how many responses the student gave and the outcomes recorded. The essay "
        "text is left out. The student of the submission or the course's staff; audited."
    )
    async def integrity_summary(ctx: Context, submission_id: uuid.UUID) -> out.IntegritySummary:
        async def go(s: AsyncSession, a: AuthContext) -> out.IntegritySummary:
            rep = await integrity_service.report(s, a, submission_id, write=s)
            return out.IntegritySummary(
                submission_id=submission_id,
                document_id=rep.document_id,
                assignment_id=rep.assignment_id,
                student_user_id=rep.student_user_id,
                attempt=rep.attempt,
                submitted_at=rep.submitted_at,
                computed_at=rep.computed_at,
                viewer=rep.viewer,
                flags=rep.flags,
                responses=len(rep.responses),
                outcomes=[str(o.outcome) for o in rep.outcomes],
            )

        return await run_tool(ctx, "integrity_summary", {"submission_id": str(submission_id)}, go)

    @server.tool(
        description="Staff: reflection quality and AI-partner use for an assignment, per student: requests, "
        "current level, reflection scores over time and an over-reliance signal. Audited."
    )
    async def ai_usage_report(ctx: Context, assignment_id: uuid.UUID) -> PartnerAssignmentSummary:
        async def go(s: AsyncSession, a: AuthContext) -> PartnerAssignmentSummary:
            return await partner_service.summary(s, s, a, assignment_id)

        return await run_tool(ctx, "ai_usage_report", {"assignment_id": str(assignment_id)}, go)

    @server.tool(
        description="The AI-partner history of one document: reflections with their rubric scores, the questions "
        "asked and answered, and level changes. Students see their own; staff see everyone's (audited)."
    )
    async def ai_partner_history(ctx: Context, document_id: uuid.UUID) -> HistoryRead:
        async def go(s: AsyncSession, a: AuthContext) -> HistoryRead:
            return await partner_service.history(s, s, a, document_id)

        return await run_tool(ctx, "ai_partner_history", {"document_id": str(document_id)}, go)


def _feedback(server: MCPServer) -> None:
    @server.tool(
        description="Staff: read the feedback comments on a document (its current text). Students may read the "
        "comments on their own documents."
    )
    async def list_comments(ctx: Context, document_id: uuid.UUID) -> out.CommentList:
        async def go(s: AsyncSession, a: AuthContext) -> out.CommentList:
            return out.CommentList(items=await feedback_service.list_comments(s, a, document_id))

        return await run_tool(ctx, "list_comments", {"document_id": str(document_id)}, go)

    @server.tool(
        description="WRITE (needs the 'write' scope): post a general feedback comment on a student's document, or "
        "on one submission of it when submission_id is given, as you (course staff only). This CHANGES data: the "
        "comment is stored and the student is notified. Plain text; it is never rendered as HTML."
    )
    async def post_comment(
        ctx: Context, body: CommentBody, document_id: uuid.UUID | None = None, submission_id: uuid.UUID | None = None
    ) -> CommentRead:
        if (document_id is None) == (submission_id is None):
            raise ToolError("InvalidInput: give exactly one of document_id or submission_id.")

        async def go(s: AsyncSession, a: AuthContext) -> CommentRead:
            data = CommentCreate(body=body)
            if submission_id is not None:
                return await feedback_service.add_submission_comment(s, a, submission_id, data)
            assert document_id is not None
            return await feedback_service.add_comment(s, a, document_id, data)

        args = {"document_id": document_id, "submission_id": submission_id, "body": text_arg(body)}
        return await run_tool(ctx, "post_comment", _ids(args), go, write=True)

    @server.tool(
        description="WRITE (needs the 'write' scope): send a message to a student of your course (course staff "
        "only). This CHANGES data: it is recorded as an intervention on the student, and the student gets an "
        "in-app notification and an email. Plain text; it is never rendered as HTML."
    )
    async def message_student(
        ctx: Context,
        course_id: uuid.UUID,
        student_user_id: uuid.UUID,
        message: Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX, description="the message, plain text")],
        subject: Annotated[
            str, Field(min_length=1, max_length=SUBJECT_MAX, description="the subject of the notification and email")
        ] = "A message about your writing",
    ) -> InterventionRead:
        async def go(s: AsyncSession, a: AuthContext) -> InterventionRead:
            data = MessageCreate(kind="message", subject=subject, body=message)
            return await intervention_service.for_student(s, a, course_id, student_user_id, data)

        args = {
            "course_id": course_id,
            "student_user_id": student_user_id,
            "subject": text_arg(subject),
            "message": text_arg(message),
        }
        return await run_tool(ctx, "message_student", _ids(args), go, write=True)


def _statement(st: Statement, audience: str) -> out.StatementOut:
    evidence = [out.EvidenceOut(text=e.text, href=e.href) for e in st.evidence]
    return out.StatementOut(code=st.code, text=st.text(audience), evidence=evidence)


def _profile_out(prof: Profile, audience: str) -> out.StudentProfile:
    """The profile in one wording only: a student's never carries the educator's text."""
    return out.StudentProfile(
        user_id=prof.user_id,
        name=prof.name,
        course_id=prof.course_id,
        audience=audience,
        state=str(prof.state),
        state_label=prof.state_label(audience),
        state_statement=_statement(prof.state_statement, audience),
        patterns=[_statement(x, audience) for x in prof.patterns],
        strengths=[_statement(x, audience) for x in prof.strengths],
        areas=[_statement(x, audience) for x in prof.areas],
        independence=[_statement(x, audience) for x in prof.independence],
        ai_weeks=[
            out.AiWeekOut(week=w.week, words_added=w.words_added, exchanges=w.exchanges, per_1000=w.per_1000)
            for w in prof.ai_weeks
        ],
        ai_per_1000=prof.ai_per_1000,
        words_added=prof.words_added,
        words_deleted=prof.words_deleted,
        active_minutes=prof.active_minutes,
        writing_days=prof.writing_days,
        last_activity_at=prof.last_activity_at,
    )


def _ids(args: dict[str, object]) -> dict[str, object]:
    """Audit-ready arguments: UUIDs as strings."""
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in args.items()}


async def _read(ctx: Context, name: str, args: dict[str, object], fn) -> str:
    """A resource read through the same path as a tool (token, unit of work, audit); errors as resource errors."""
    try:
        return await run_tool(ctx, name, args, fn)
    except ToolError as exc:
        raise ResourceError(str(exc)) from None


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ResourceError("InvalidInput: the id in the address is not a UUID.") from None


def _resources(server: MCPServer) -> None:
    @server.resource(
        "scribetree://documents/{document_id}",
        name="document",
        mime_type="application/json",
        description="A document you may read (your own, or a student's in a course you teach; staff reads are "
        "audited): its current text, revision and word count.",
    )
    async def document(document_id: str, ctx: Context) -> str:
        did = _uuid(document_id)

        async def go(s: AsyncSession, a: AuthContext) -> str:
            doc = await document_service.get(s, a, did, audit_session=s)
            return document_read(doc).model_dump_json()

        return await _read(ctx, "resource:document", {"document_id": str(did)}, go)

    @server.resource(
        "scribetree://submissions/{submission_id}/integrity",
        name="integrity_summary",
        mime_type="application/json",
        description="The integrity report summary of a submission (flags, responses, outcomes; no text).",
    )
    async def integrity(submission_id: str, ctx: Context) -> str:
        sid = _uuid(submission_id)

        async def go(s: AsyncSession, a: AuthContext) -> str:
            rep = await integrity_service.report(s, a, sid, write=s)
            return out.IntegritySummary(
                submission_id=sid,
                document_id=rep.document_id,
                assignment_id=rep.assignment_id,
                student_user_id=rep.student_user_id,
                attempt=rep.attempt,
                submitted_at=rep.submitted_at,
                computed_at=rep.computed_at,
                viewer=rep.viewer,
                flags=rep.flags,
                responses=len(rep.responses),
                outcomes=[str(o.outcome) for o in rep.outcomes],
            ).model_dump_json()

        return await _read(ctx, "resource:integrity_summary", {"submission_id": str(sid)}, go)


def _prompts(server: MCPServer) -> None:
    @server.prompt(
        name="feedback_conference",
        description="Prepare a feedback conference with one student: gathers their analytics, AI-partner use, "
        "integrity flags and comments with the tools, then drafts an agenda of questions for the student.",
    )
    def feedback_conference(course_id: str, student_user_id: str, assignment_id: str = "") -> str:
        scope = f" on assignment {assignment_id}" if assignment_id else ""
        return (
            f"Prepare a 15-minute feedback conference with student {student_user_id} in course {course_id}{scope}.\n"
            "1. Call student_analytics (course_id, student_user_id) for their writing process: time, sessions, "
            "revisions, pasting, stage progress.\n"
            "2. Call students_needing_attention (course_id, student_user_id) for open alerts and their evidence.\n"
            "3. For the assignment, call assignment_overview to find their document and submission, then "
            "ai_partner_history (document_id), integrity_summary (submission_id) and list_comments (document_id).\n"
            "Then write: two strengths backed by the figures; at most three areas to work on; open questions to ask "
            "the student about their process (never accusations: flags are reasons to ask, not findings); and one "
            "concrete next step. Do not write any of the student's essay for them."
        )

    @server.prompt(
        name="assignment_check_in",
        description="Review how a class is doing on one assignment and who may need help, from the overview, "
        "the alerts and the AI-usage report.",
    )
    def assignment_check_in(course_id: str, assignment_id: str) -> str:
        return (
            f"Review assignment {assignment_id} of course {course_id}. Call assignment_overview (all pages), "
            "students_needing_attention (course_id) and ai_usage_report (assignment_id). Summarise: how many have "
            "started, submitted, are late; who has open alerts and why; who relies heavily on the AI partner or "
            "writes low-scoring reflections. Suggest whom to contact first and what to say, in a short table."
        )
