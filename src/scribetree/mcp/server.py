"""The MCP server: tools, resources and prompts over the domain services (docs/mcp.md).

``build_server()`` returns a fresh ``MCPServer`` (one per app: its session manager runs once). Every tool goes
through ``runtime.run_tool``: the caller's token becomes an AuthContext, the call runs in its own unit of work
against the same service the HTTP API uses, and an ``mcp.tool`` audit entry is written.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree import __version__
from scribetree.ai_partner.engine.types import HelpKind, Level, PartnerRequest
from scribetree.ai_partner.engine.validator import validate
from scribetree.ai_partner.levels import POLICY
from scribetree.ai_partner.reflection import DIMENSION_LABELS, ReflectionInput, score_reflection
from scribetree.analytics.schemas import StyleMeasures
from scribetree.analytics.style import measure
from scribetree.courses.schemas import AssignmentRead
from scribetree.courses.service import assignment as assignment_service
from scribetree.courses.service import course as course_service
from scribetree.mcp import schemas as out
from scribetree.mcp.runtime import DEFAULT_PAGE, page, run_tool, text_arg
from scribetree.tenancy.context import AuthContext
from scribetree.writing.service import document as document_service

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
