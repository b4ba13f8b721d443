"""Course pages: educators create courses and assignments (stages, rubric, objectives), manage the roster and the
join code; students join by code and see published assignments. Plain forms, as a browser without JavaScript."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from scribetree.courses.models import Assignment, Course, CourseMember, CourseRole
from scribetree.tenancy.models import Role
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member
from tests.factories.tenancy import create_member


class _Labels(HTMLParser):
    """Form controls and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.label_for.add(a["for"] or "")
        hidden = a.get("type") in ("hidden", "submit") or a.get("aria-hidden") == "true"
        if tag in ("input", "select", "textarea") and not hidden:
            self.controls.append(a)


def assert_accessible_form(html: str) -> None:
    """Every visible control has a label tied to its id; the page is set up for phone widths."""
    p = _Labels()
    p.feed(html)
    assert p.controls, "no form controls found: the check would pass vacuously"
    unlabelled = [c for c in p.controls if not c.get("id") or c["id"] not in p.label_for]
    assert not unlabelled, unlabelled
    assert 'name="viewport" content="width=device-width' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids break label associations"


def test_the_label_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        assert_accessible_form('<meta name="viewport" content="width=device-width"><input id="x" name="x">')


async def _commit(session):
    await session.commit()


class TestEducator:
    @pytest.mark.auth(role="educator")
    async def test_create_a_course_then_see_its_home(self, client, session):
        r = await client.get("/courses")
        assert r.status_code == 200 and 'href="/courses/new"' in r.text and "no courses yet" in r.text
        r = await client.get("/courses/new")
        assert r.status_code == 200
        assert_accessible_form(r.text)
        r = await client.post("/courses/new", data={"title": "", "ends_on": "2026-01-01", "starts_on": "2026-02-01"})
        assert r.status_code == 422 and "There is a problem" in r.text and "Give the course a title" in r.text
        assert (await session.execute(select(Course))).first() is None
        await session.commit()
        r = await client.post("/courses/new", data={"title": "Essays <b>101</b>", "term": "Fall 2026", "section": "B"})
        assert r.status_code == 303, r.text
        home = await client.get(r.headers["location"])
        assert home.status_code == 200
        assert "Essays &lt;b&gt;101&lt;/b&gt;" in home.text and "<b>101</b>" not in home.text
        code = (await session.execute(select(Course.join_code))).scalar_one()
        await session.commit()
        assert code and code in home.text
        assert "Roster" in home.text and "New assignment" in home.text
        assert_accessible_form(home.text)

    @pytest.mark.auth(role="educator")
    async def test_join_code_archive_and_restore(self, client, session, actor, tenant):
        course = await create_course(session, tenant, join_code="KEEP2345")
        from tests.factories.courses import enroll

        await enroll(session, course, actor.user, CourseRole.instructor)
        await session.commit()
        r = await client.post(f"/courses/{course.id}/join-code", data={"action": "rotate"})
        assert r.status_code == 303
        page = (await client.get(f"/courses/{course.id}")).text
        assert "KEEP2345" not in page and "The new join code is" in page
        r = await client.post(f"/courses/{course.id}/join-code", data={"action": "disable"})
        assert r.status_code == 303
        assert "Joining by code is off" in (await client.get(f"/courses/{course.id}")).text
        assert (await client.post(f"/courses/{course.id}/archive")).status_code == 303
        assert "was archived" in (await client.get("/courses?archived=1")).text
        assert (await client.post(f"/courses/{course.id}/restore")).status_code == 303
        stmt = select(Course).where(Course.id == course.id).execution_options(populate_existing=True)
        row = (await session.execute(stmt)).scalar_one()
        assert row.archived_at is None and row.join_code is None
        await session.commit()

    @pytest.mark.auth(role="educator")
    async def test_roster_add_change_remove(self, client, session, actor, tenant):
        course = await create_course(session, tenant)
        from tests.factories.courses import enroll

        await enroll(session, course, actor.user, CourseRole.instructor)
        student, _ = await create_member(session, tenant, Role.student, email="sam@example.edu", display_name="Sam")
        await session.commit()
        r = await client.post(f"/courses/{course.id}/members", data={"email": "nobody@example.edu", "role": "student"})
        assert r.status_code == 422 and "not an active member of your institution" in r.text
        r = await client.post(f"/courses/{course.id}/members", data={"email": "sam@example.edu", "role": "student"})
        assert r.status_code == 303
        page = (await client.get(r.headers["location"])).text
        assert "Sam was added as student." in page and "sam@example.edu" in page
        r = await client.post(f"/courses/{course.id}/members/{student.id}/role", data={"role": "ta"})
        assert (
            r.status_code == 303 and "Sam is now teaching assistant." in (await client.get(r.headers["location"])).text
        )
        r = await client.post(f"/courses/{course.id}/members/{actor.user.id}/remove")
        assert r.status_code == 303
        assert "only instructor" in (await client.get(r.headers["location"])).text
        r = await client.post(f"/courses/{course.id}/members/{student.id}/remove")
        assert r.status_code == 303
        rows = (await session.execute(select(CourseMember.user_id).where(CourseMember.course_id == course.id))).all()
        await session.commit()
        assert [u for (u,) in rows] == [actor.user.id]


class TestAssignmentForm:
    @pytest.fixture
    async def course(self, session, tenant, actor):
        from tests.factories.courses import enroll

        course = await create_course(session, tenant)
        await enroll(session, course, actor.user, CourseRole.instructor)
        await session.commit()
        return course

    @pytest.mark.auth(role="educator")
    async def test_add_rows_then_save_with_stages_rubric_and_objectives(self, client, session, course):
        url = f"/courses/{course.id}/assignments/new"
        r = await client.get(url)
        assert r.status_code == 200 and r.text.count('name="stage_label_') == 5
        assert_accessible_form(r.text)
        base = {
            "title": "Letter",
            "instructions_md": "Write a *letter*.\n\n<script>alert(1)</script>",
            "stage_count": "5",
            "objective_count": "0",
            "criterion_count": "0",
        }
        for i, label in enumerate(["Brainstorm", "Outline", "Draft", "Revise", "Edit"]):
            base[f"stage_label_{i}"] = label
        r = await client.post(url, data={**base, "action": "add_criterion"})
        assert r.status_code == 200 and 'name="crit_title_0"' in r.text and 'name="level_label_0_1"' in r.text
        assert 'value="Letter"' in r.text  # what was typed is kept
        assert (await session.execute(select(Assignment))).first() is None
        await session.commit()
        r = await client.post(url, data={**base, "action": "add_stage"})
        assert r.text.count('name="stage_label_') == 6
        assert_accessible_form(r.text)
        full = {
            **base,
            "action": "save",
            "due_at": "2026-12-10T17:00",
            "stage_label_2": "First draft",
            "stage_due_2": "2026-12-05T17:00",
            "stage_label_4": "",  # removes "Edit"
            "word_min": "300",
            "word_max": "900",
            "late_policy": "penalty",
            "late_penalty_percent": "5",
            "resubmission": "unlimited",
            "ai_statement_required": "on",
            "objective_count": "1",
            "objective_text_0": "Address a reader",
            "objective_bloom_0": "apply",
            "criterion_count": "1",
            "crit_title_0": "Voice",
            "level_count_0": "2",
            "level_label_0_0": "Flat",
            "level_points_0_0": "1",
            "level_label_0_1": "Vivid",
            "level_points_0_1": "3.5",
        }
        r = await client.post(url, data=full)
        assert r.status_code == 303, r.text
        a = (await session.execute(select(Assignment))).scalar_one()
        await session.commit()
        assert [s["label"] for s in a.stages] == ["Brainstorm", "Outline", "First draft", "Revise"]
        assert a.stages[2]["due_at"] == "2026-12-05T17:00:00+00:00" and a.word_max == 900
        assert a.rubric["total_points"] == 3.5 and a.objectives == [{"text": "Address a reader", "bloom": "apply"}]
        assert a.published_at is None and a.ai_statement_required is True and a.late_penalty_percent == 5
        page = (await client.get(r.headers["location"])).text
        assert "<em>letter</em>" in page and "&lt;script&gt;" in page and "<script>alert" not in page
        assert "3.5 points" in page and "Address a reader" in page and "Draft" in page

    @pytest.mark.auth(role="educator")
    async def test_errors_are_named_and_nothing_changes(self, client, session, course):
        a = await create_assignment(session, course, title="Kept", word_min=10, word_max=20, rubric=RUBRIC)
        await session.commit()
        url = f"/courses/{course.id}/assignments/{a.id}/edit"
        form = await client.get(url)
        assert form.status_code == 200 and 'value="Kept"' in form.text and 'value="thesis"' in form.text
        assert_accessible_form(form.text)
        data = {
            "title": "Changed",
            "word_min": "50",
            "word_max": "20",
            "stage_count": "1",
            "stage_label_0": "Draft",
            "criterion_count": "1",
            "crit_id_0": "thesis",
            "crit_title_0": "Thesis",
            "level_count_0": "1",
            "level_label_0_0": "Ok",
            "level_points_0_0": "many",
            "action": "save",
        }
        r = await client.post(url, data=data)
        assert r.status_code == 422
        assert "points" in r.text and "There is a problem" in r.text
        r = await client.post(url, data={**data, "level_points_0_0": "2"})
        assert r.status_code == 422 and "minimum word count" in r.text
        row = (await session.execute(select(Assignment).where(Assignment.id == a.id))).scalar_one()
        await session.commit()
        assert (row.title, row.word_min) == ("Kept", 10)
        r = await client.post(url, data={**data, "level_points_0_0": "2", "word_min": "5"})
        assert r.status_code == 303
        row = (
            await session.execute(
                select(Assignment).where(Assignment.id == a.id).execution_options(populate_existing=True)
            )
        ).scalar_one()
        await session.commit()
        assert row.title == "Changed" and row.rubric["criteria"][0]["id"] == "thesis"

    @pytest.mark.auth(role="educator")
    async def test_publish_from_the_page(self, client, session, course, tenant, client_for_student):
        a = await create_assignment(session, course, published=False, title="Soon")
        student = await create_course_member(session, course, tenant, CourseRole.student)
        await session.commit()
        s = await client_for_student(student)
        assert (await s.get(f"/courses/{course.id}/assignments/{a.id}")).status_code == 404
        r = await client.post(f"/courses/{course.id}/assignments/{a.id}/publish")
        assert r.status_code == 303 and "is published" in (await client.get(r.headers["location"])).text
        assert (await s.get(f"/courses/{course.id}/assignments/{a.id}")).status_code == 200
        other = await create_course(session, tenant)
        await session.commit()
        r = await client.get(f"/courses/{other.id}/assignments/{a.id}")
        assert r.status_code == 404  # an assignment is only found under its own course


@pytest.fixture
async def client_for_student(app, session, tenant):
    from tests.fixtures.auth import make_client

    opened = []

    async def make(user):
        c = await make_client(app, session, user, tenant)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.aclose()


class TestStudent:
    @pytest.mark.auth(role="student")
    async def test_join_by_code_and_see_published_assignments_only(self, client, session, tenant):
        course = await create_course(session, tenant, title="Poetry", join_code="POEM2345")
        await create_assignment(session, course, title="Sonnet", published=True)
        await create_assignment(session, course, title="Secret draft", published=False)
        await session.commit()
        r = await client.get("/courses")
        assert r.status_code == 200 and "Join a course" in r.text and 'href="/courses/new"' not in r.text
        assert_accessible_form(r.text)
        r = await client.post("/courses/join", data={"code": "nope-0000"})
        assert r.status_code == 404 and "No open course has this join code" in r.text
        assert 'aria-invalid="true"' in r.text
        r = await client.post("/courses/join", data={"code": "x"})
        assert r.status_code == 422 and "4 to 16 letters" in r.text
        r = await client.post("/courses/join", data={"code": "poem-2345"})
        assert r.status_code == 303
        page = (await client.get(r.headers["location"])).text
        assert "You are in “Poetry”." in page and "Sonnet" in page and "Secret draft" not in page
        assert "Roster" not in page and "POEM2345" not in page and "New assignment" not in page

    @pytest.mark.auth(role="student")
    async def test_students_cannot_open_staff_pages(self, client, session, tenant, actor):
        course = await create_course(session, tenant)
        from tests.factories.courses import enroll

        await enroll(session, course, actor.user, CourseRole.student)
        a = await create_assignment(session, course)
        await session.commit()
        assert (await client.get("/courses/new")).status_code == 403
        assert (await client.get(f"/courses/{course.id}/assignments/new")).status_code == 403
        assert (await client.get(f"/courses/{course.id}/assignments/{a.id}/edit")).status_code == 403
        r = await client.post(f"/courses/{course.id}/assignments/{a.id}/unpublish")
        assert r.status_code == 403
        assert (await client.get(f"/courses/{uuid.uuid4()}")).status_code == 404
        assert (await client.get("/courses/not-an-id")).status_code == 404


class TestDetailsAndLibrary:
    @pytest.fixture
    async def course(self, session, tenant, actor):
        from tests.factories.courses import enroll

        course = await create_course(session, tenant, title="Old title")
        await enroll(session, course, actor.user, CourseRole.instructor)
        await session.commit()
        return course

    @pytest.mark.auth(role="educator")
    async def test_edit_course_details(self, client, session, course):
        r = await client.get(f"/courses/{course.id}/edit")
        assert r.status_code == 200 and 'value="Old title"' in r.text
        assert_accessible_form(r.text)
        r = await client.post(
            f"/courses/{course.id}/edit",
            data={"title": "New title", "starts_on": "2026-09-02", "ends_on": "2026-09-01"},
        )
        assert r.status_code == 422 and "end date must be on or after" in r.text
        r = await client.post(f"/courses/{course.id}/edit", data={"title": "New title", "term": "Spring"})
        assert r.status_code == 303
        page = (await client.get(r.headers["location"])).text
        assert "New title" in page and "Spring" in page and "The course details were saved." in page

    @pytest.mark.auth(role="educator")
    async def test_save_to_library_then_start_from_it(self, client, session, course, tenant):
        a = await create_assignment(session, course, title="Reusable", rubric=RUBRIC)
        await session.commit()
        r = await client.post(f"/courses/{course.id}/assignments/{a.id}/save-template", data={"visibility": "private"})
        assert r.status_code == 303 and "saved to your library" in (await client.get(r.headers["location"])).text
        form = await client.get(f"/courses/{course.id}/assignments/new")
        assert "Start from the library" in form.text and "Reusable" in form.text
        assert_accessible_form(form.text)
        template_id = re.search(r'name="template_id" value="([0-9a-f-]{36})"', form.text).group(1)
        r = await client.post(f"/courses/{course.id}/assignments/from-template", data={"template_id": template_id})
        assert r.status_code == 303 and r.headers["location"].endswith("/edit")
        rows = (await session.execute(select(Assignment.title, Assignment.template_id))).all()
        await session.commit()
        assert sorted(t for t, _ in rows) == ["Reusable", "Reusable"]
        assert {str(tid) for _, tid in rows} == {"None", template_id}

    @pytest.mark.auth(role="teaching_assistant")
    async def test_tas_neither_edit_details_nor_use_the_library(self, client, session, tenant, actor):
        from tests.factories.courses import enroll

        course = await create_course(session, tenant)
        await enroll(session, course, actor.user, CourseRole.ta)
        await session.commit()
        assert (await client.get(f"/courses/{course.id}/edit")).status_code == 403
        form = await client.get(f"/courses/{course.id}/assignments/new")
        assert form.status_code == 200 and "Start from the library" not in form.text


class TestGroupsPage:
    @pytest.mark.auth(role="educator")
    async def test_create_fill_and_delete_groups(self, client, session, tenant, actor, client_for_student):
        from scribetree.courses.models import AssignmentGroupMember, AssignmentKind
        from tests.factories.courses import enroll

        course = await create_course(session, tenant)
        await enroll(session, course, actor.user, CourseRole.instructor)
        ann = await create_course_member(session, course, tenant, CourseRole.student, display_name="Ann")
        bob = await create_course_member(session, course, tenant, CourseRole.student, display_name="Bob")
        a = await create_assignment(session, course, kind=AssignmentKind.group, title="Team report")
        await session.commit()
        url = f"/courses/{course.id}/assignments/{a.id}"
        page = await client.get(url)
        assert "No groups yet." in page.text and "Ann" in page.text and "Bob" in page.text
        assert_accessible_form(page.text)
        r = await client.post(f"{url}/groups", data={"name": "Oaks", "user_ids": [str(ann.id)]})
        assert r.status_code == 303
        assert "Group “Oaks” was created with 1 students." in (await client.get(r.headers["location"])).text
        r = await client.post(f"{url}/groups", data={"name": "Pines", "user_ids": [str(ann.id)]})
        assert "only one group per assignment" in (await client.get(r.headers["location"])).text
        r = await client.post(f"{url}/groups", data={"name": ""})
        assert "Give the group a name" in (await client.get(r.headers["location"])).text
        gid = (await session.execute(select(AssignmentGroupMember.group_id))).scalar_one()
        await session.commit()
        r = await client.post(f"{url}/groups/{gid}", data={"user_ids": [str(ann.id), str(bob.id)]})
        assert "now has 2 students" in (await client.get(r.headers["location"])).text
        s = await client_for_student(bob)
        assert "You write this one with your group, <strong>Oaks</strong>" in (await s.get(url)).text
        assert (await s.post(f"{url}/groups/{gid}/delete")).status_code == 403
        r = await client.post(f"{url}/groups/{gid}/delete")
        after = (await client.get(r.headers["location"])).text
        assert r.status_code == 303 and "No groups yet." in after, after[after.find("Groups") :][:1500]
