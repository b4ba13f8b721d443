"""The role homes list what people work on: students their assignments (write, feedback), teachers their
courses and assignments (submissions). Drafts stay hidden from students; other courses never show."""

from __future__ import annotations

import pytest

from scribetree.courses.models import CourseRole
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.fixtures.auth import make_client


@pytest.fixture
async def course_setup(session, tenant):
    course = await create_course(session, tenant, title="Composition 101", section="B")
    other = await create_course(session, tenant, title="Somebody else's course")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    published = await create_assignment(session, course, title="Letter <to> a reader")
    draft = await create_assignment(session, course, title="Unfinished draft", published=False)
    hidden = await create_assignment(session, other, title="Not yours")
    await session.commit()
    return course, teacher, student, published, draft, hidden


async def test_student_home_lists_published_assignments_with_write_and_feedback(app, session, tenant, course_setup):
    _course, _teacher, student, published, _draft, _hidden = course_setup
    async with await make_client(app, session, student, tenant) as c:
        home = await c.get("/home")
    assert home.status_code == 200
    assert "Letter &lt;to&gt; a reader" in home.text and "Letter <to>" not in home.text  # escaped
    assert f'href="/assignments/{published.id}/write"' in home.text
    assert f'href="/assignments/{published.id}/feedback"' in home.text
    assert "Unfinished draft" not in home.text and "Not yours" not in home.text
    assert 'href="/courses"' in home.text  # the navigation and the join link


async def test_teacher_home_lists_courses_and_assignments_with_submissions(app, session, tenant, course_setup):
    course, teacher, _student, published, _draft, _hidden = course_setup
    async with await make_client(app, session, teacher, tenant) as c:
        home = await c.get("/home")
    assert home.status_code == 200
    assert f'href="/courses/{course.id}"' in home.text and "section B" in home.text
    assert f'href="/assignments/{published.id}/submissions"' in home.text
    assert "Unfinished draft" in home.text and "draft" in home.text  # teachers see their drafts
    assert "Somebody else" not in home.text and "Not yours" not in home.text
