"""The ``process_flags`` rule: a submission whose integrity report raised flags becomes one alert for the
course's staff (docs/alerts.md, docs/integrity.md "Alerts").

The flags are computed per submission by the integrity job (``integrity.compute_report``), not from a student's
draft history, so this rule does not read a :class:`~scribetree.alerts.rules.History`: the alerts' activity
evaluation (every 30 s) reads the reports computed since the ``integrity_reports`` watermark (minus a minute of
overlap) and raises one alert per submission attempt with flags. It goes through the same catalogue (label,
mutes), dedupe keys, delivery rows, notifications, email and live push as every other alert. Alerts layer
above integrity, so the integrity domain knows nothing of this.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts import rules
from scribetree.alerts.models import Severity, SuggestedAction
from scribetree.alerts.repository import CourseSettingsRepository, WatermarkRepository
from scribetree.core import clock
from scribetree.core.repository import TenantRepository
from scribetree.courses.models import Assignment
from scribetree.integrity.models import IntegrityReport
from scribetree.writing.models import Submission

RULE = "process_flags"
WATERMARK = "integrity_reports"
OVERLAP = timedelta(seconds=60)  # reports whose transaction committed after the last run began
FIRST_LOOKBACK = timedelta(hours=1)  # a tenant's first run looks this far back


def _not_from_history(h: rules.History, th: rules.Thresholds) -> rules.Finding | None:
    """The rule reads integrity reports, not draft histories (see :func:`evaluate_reports`)."""
    return None


INFO = rules.RuleInfo(
    RULE,
    "Flags in a submission's writing process",
    _not_from_history,
    (SuggestedAction.message, SuggestedAction.check_in),
    True,
    (),
)
rules.EXTRA_RULES[RULE] = INFO


class FlaggedReportRepository(TenantRepository[IntegrityReport]):
    model = IntegrityReport

    async def computed_between(self, since: datetime, until: datetime) -> list[tuple[IntegrityReport, int, uuid.UUID]]:
        """Reports computed in ``[since, until]`` with their submission's attempt and the course."""
        stmt = (
            select(IntegrityReport, Submission.attempt, Assignment.course_id)
            .join(Submission, Submission.id == IntegrityReport.submission_id)
            .join(Assignment, Assignment.id == IntegrityReport.assignment_id)
            .where(
                IntegrityReport.tenant_id == self.tenant_id,
                Submission.tenant_id == self.tenant_id,
                Assignment.tenant_id == self.tenant_id,
                IntegrityReport.computed_at >= since,
                IntegrityReport.computed_at <= until,
            )
            .order_by(IntegrityReport.computed_at, IntegrityReport.id)
        )
        return [(r, a, c) for r, a, c in (await self.session.execute(stmt)).all()]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return "—" if value is None else str(value)


def title(n: int) -> str:
    """An observation, never an accusation (docs/integrity.md)."""
    return f"The writing process of this submission has {n} flag{'s' if n != 1 else ''} to look at"


def row_for(report: IntegrityReport, attempt: int, course_id: uuid.UUID) -> dict[str, Any] | None:
    """The alert row of one report, or ``None`` when it raised no flag (or has no single student)."""
    raised = [f for f in (report.report or {}).get("flags", []) if isinstance(f, dict) and f.get("code")]
    if not raised or report.student_user_id is None:
        return None
    flags = [
        {
            "code": f["code"],
            "title": f.get("title", f["code"]),
            "measured": f.get("measured"),
            "threshold": f.get("threshold"),
            "comparison": f.get("comparison", ""),
        }
        for f in raised
    ]
    figures: dict[str, Any] = {"attempt": attempt, "flags": len(flags)}
    for f in flags:
        figures[f["title"]] = f"{_fmt(f['measured'])} (threshold {f['comparison']} {_fmt(f['threshold'])})".replace(
            "  ", " "
        )
    sid = report.submission_id
    return {
        "course_id": course_id,
        "assignment_id": report.assignment_id,
        "student_user_id": report.student_user_id,
        "rule": RULE,
        "severity": Severity.attention,
        "positive": False,
        "title": title(len(flags))[:300],
        "evidence": {
            "figures": figures,
            "flags": flags,
            "submission_id": str(sid),
            "links": [
                {"label": "Process report", "url": f"/submissions/{sid}/integrity"},
                {"label": "Replay the writing", "url": f"/documents/{report.document_id}/replay"},
                {"label": "Similarity", "url": f"/submissions/{sid}/similarity"},
            ],
            "rule_label": INFO.label,
        },
        "suggested_actions": [a.value for a in INFO.actions],
        "dedupe_key": f"{RULE}:{report.student_user_id}:{report.assignment_id}:{sid}:{attempt}"[:200],
    }


async def flagged_rows(session: AsyncSession, tenant_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    """Alert rows for the flagged reports computed since the watermark, without the courses that mute the rule;
    moves the watermark to ``now``. The service inserts them (dedupe) and delivers them like every other alert."""
    marks = WatermarkRepository(session, tenant_id)
    last = await marks.get_value(WATERMARK)
    since = (clock.as_utc(last) - OVERLAP) if last else now - FIRST_LOOKBACK
    found = await FlaggedReportRepository(session, tenant_id).computed_between(since, now)
    rows = [r for r in (row_for(rep, attempt, course) for rep, attempt, course in found) if r is not None]
    if rows:
        stored = await CourseSettingsRepository(session, tenant_id).for_courses(sorted({r["course_id"] for r in rows}))
        rows = [r for r in rows if r["course_id"] not in stored or RULE not in stored[r["course_id"]].muted_rules]
    await marks.set_value(WATERMARK, now)
    return rows
