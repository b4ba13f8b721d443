"""Rubric scoring and late penalties (pure), and the graded-submissions helper (tenant-scoped)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock
from scribetree.writing.feedback import graded_submission_ids, late_penalty_percent, score_rubric
from scribetree.writing.feedback_exceptions import NoRubric, UnknownCriterion, UnknownLevel
from scribetree.writing.feedback_models import Grade, GradeStatus
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.writing import create_document
from tests.writing.conftest import Klass
from tests.writing.test_feedback import RUBRIC, create_submission


class TestScoreRubric:
    def test_full_and_partial_scores(self) -> None:
        full = score_rubric(RUBRIC, {"thesis": "t1", "evidence": "e3"})
        assert (full.points, full.max_points, full.missing) == (4.5, 7.5, [])
        assert [(c.criterion_id, c.level, c.points, c.max_points) for c in full.criteria] == [
            ("thesis", "Beginning", 1.0, 4.0),
            ("evidence", "Strong", 3.5, 3.5),
        ]
        partial = score_rubric(RUBRIC, {"evidence": "e0"})
        assert (partial.points, partial.max_points, partial.missing) == (0.0, 7.5, ["Thesis"])
        none = score_rubric(RUBRIC, {})
        assert (none.points, none.missing) == (None, ["Thesis", "Evidence"])

    def test_errors_name_what_is_allowed(self) -> None:
        with pytest.raises(UnknownCriterion) as crit:
            score_rubric(RUBRIC, {"style": "t1"})
        assert "'thesis' (Thesis)" in crit.value.detail and crit.value.extra == {"criterion_id": "style"}
        with pytest.raises(UnknownLevel) as level:
            score_rubric(RUBRIC, {"evidence": "t4"})
        assert "'e0' (Missing)" in level.value.detail

    @pytest.mark.parametrize("rubric", [None, {}, {"criteria": []}])
    def test_no_rubric(self, rubric: dict[str, Any] | None) -> None:
        assert score_rubric(rubric, {}).points is None
        with pytest.raises(NoRubric):
            score_rubric(rubric, {"thesis": "t1"})


def _late(policy: str, percent: int, due_offset_hours: float | None, late: bool = True) -> int:
    now = clock.utcnow()
    assignment = SimpleNamespace(
        late_policy=policy,
        late_penalty_percent=percent,
        due_at=None if due_offset_hours is None else now - timedelta(hours=due_offset_hours),
    )
    submission = SimpleNamespace(late=late, submitted_at=now)
    return late_penalty_percent(assignment, submission)  # type: ignore[arg-type]


class TestLatePenalty:
    @pytest.mark.parametrize(
        ("policy", "percent", "hours_late", "late", "expected"),
        [
            ("penalty", 10, 1, True, 10),
            ("penalty", 10, 24, True, 10),
            ("penalty", 10, 24.5, True, 20),
            ("penalty", 30, 24 * 9, True, 100),
            ("penalty", 10, 5, False, 0),
            ("accept", 10, 48, True, 0),
            ("penalty", 10, None, True, 0),
            ("penalty", 10, -2, True, 0),
        ],
    )
    def test_per_started_day(self, policy: str, percent: int, hours_late: float | None, late: bool, expected: int):
        assert _late(policy, percent, hours_late, late) == expected


class TestGradedSubmissionIds:
    async def test_only_returned_grades_of_that_assignment_and_tenant(
        self, session: AsyncSession, klass: Klass, other_tenant
    ) -> None:
        other_assignment = await create_assignment(session, klass.course)
        docs = [
            await create_document(session, klass.assignment, owner=klass.student, text="a"),
            await create_document(session, klass.assignment, owner=klass.classmate, text="b"),
            await create_document(session, other_assignment, owner=klass.student, text="c"),
        ]
        subs = [await create_submission(session, d) for d in docs]
        foreign_course = await create_course(session, other_tenant)
        foreign_student = await create_course_member(session, foreign_course, other_tenant)
        foreign_doc = await create_document(
            session, await create_assignment(session, foreign_course), owner=foreign_student, text="d"
        )
        foreign_sub = await create_submission(session, foreign_doc)
        for sub, status in ((subs[0], GradeStatus.returned), (subs[1], GradeStatus.draft), (subs[2], "returned")):
            session.add(
                Grade(
                    tenant_id=sub.tenant_id,
                    submission_id=sub.id,
                    document_id=sub.document_id,
                    assignment_id=sub.assignment_id,
                    scores={},
                    status=status,
                )
            )
        session.add(
            Grade(
                tenant_id=other_tenant.id,
                submission_id=foreign_sub.id,
                document_id=foreign_doc.id,
                assignment_id=klass.assignment.id,  # a forged cross-tenant reference must not leak in
                scores={},
                status=GradeStatus.returned,
            )
        )
        await session.flush()
        assert await graded_submission_ids(session, klass.tenant.id, klass.assignment.id) == {subs[0].id}
        assert await graded_submission_ids(session, klass.tenant.id, other_assignment.id) == {subs[2].id}
        await session.rollback()
