"""Research tools (scope ``research``): de-identified, k-suppressed aggregates of the institution's data.

Who may call them and what they return is decided in ``compliance.research`` (docs/mcp.md, "Research tools");
these are thin wrappers running through ``runtime.run_tool`` (token, unit of work, ``mcp.tool`` audit).
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.compliance.research import MAX_WEEKS, ActivityReport, ReflectionReport, research
from scribetree.mcp.runtime import run_tool
from scribetree.tenancy.context import AuthContext

Weeks = Annotated[int, Field(ge=1, le=MAX_WEEKS, description=f"ISO weeks back from this one (1-{MAX_WEEKS})")]

_RULE = (
    " Research scope: an institution admin's token with the 'read' and 'research' scopes, and the institution's "
    "research consent. Courses are pseudonyms; groups with fewer than k_min students are suppressed (null values, "
    "suppressed: true). Every call is logged."
)


def register(server: MCPServer) -> None:
    @server.tool(
        description="RESEARCH: per course x ISO week, the students active, median active minutes and median words "
        "added per active student, and submissions." + _RULE
    )
    async def research_course_activity(ctx: Context, weeks: Weeks = 12) -> ActivityReport:
        async def go(s: AsyncSession, a: AuthContext) -> ActivityReport:
            return await research.course_activity(s, a, weeks=weeks)

        return await run_tool(ctx, "research_course_activity", {"weeks": weeks}, go)

    @server.tool(
        description="RESEARCH: per course x ISO week, the number of AI-partner reflections, distinct students and "
        "the median reflection score (0-20)." + _RULE
    )
    async def research_reflection_quality(ctx: Context, weeks: Weeks = 12) -> ReflectionReport:
        async def go(s: AsyncSession, a: AuthContext) -> ReflectionReport:
            return await research.reflection_quality(s, a, weeks=weeks)

        return await run_tool(ctx, "research_reflection_quality", {"weeks": weeks}, go)
