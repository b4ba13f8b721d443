"""Assignments, groups and the template library through the JSON API (real app, real database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, AssignmentKind, AssignmentTemplate, CourseRole, TemplateVisibility
from scribetree.tenancy.models import Role
from tests.factories.courses import (
    RUBRIC,
    create_assignment,
    create_course,
    create_course_member,
    create_group,
    create_template,
)
from tests.factories.tenancy import create_member

FULL = {
    "title": "Argument essay",
    "instructions_md": "Write an **argument**.\n\n<script>alert(1)</script> [x](javascript:alert(1))",
    "kind": "individual",
    "due_at": "2026-12-10T17:00:00+00:00",
    "stages": [
        {"key": "outline", "label": "Outline", "due_at": "2026-12-01T17:00:00+01:00"},
        {"key": "draft", "label": "Draft", "due_at": "2026-12-05T17:00:00Z"},
        {"key": "final", "label": "Final"},
    ],
    "word_min": 500,
    "word_max": 1200,
    "late_policy": "penalty",
    "late_penalty_percent": 10,
    "resubmission": "unlimited",
    "ai_statement_required": True,
    "ai_settings": {"enabled": True, "per_stage": {"draft": "questions"}},
    "rubric": {
        "criteria": [
            {
                "title": "Thesis",
                "levels": [{"label": "Weak", "points": 0}, {"label": "Strong", "points": 4.5}],
            },
            {
                "id": "evidence",
                "title": "Evidence",
                "levels": [
                    {"label": "Some", "points": 2},
                    {"label": "Ample", "points": 5},
                    {"label": "Odd", "points": 1},
                ],
            },
        ]
    },
    "objectives": [{"text": "Build an argument", "bloom": "create"}, {"text": "Weigh sources", "bloom": "evaluate"}],
}


async def actions(session) -> list[str]:
    await session.commit()
    found = [e.action for e in (await session.execute(select(AuditEvent).order_by(AuditEvent.seq))).scalars()]
    await session.commit()  # end the read: a stale SQLite snapshot cannot write later
    return found


async def assignment_row(session, assignment_id) -> Assignment | None:
    await session.commit()
    stmt = select(Assignment).where(Assignment.id == uuid.UUID(str(assignment_id)))
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


@pytest.fixture
async def world(session, tenant):
    course = await create_course(session, tenant)
    people = {
        "instructor": await create_course_member(session, course, tenant, CourseRole.instructor),
        "ta": await create_course_member(session, course, tenant, CourseRole.ta),
        "student": await create_course_member(session, course, tenant, CourseRole.student),
        "student2": await create_course_member(session, course, tenant, CourseRole.student),
    }
    await session.commit()
    return {"course": course, **people}


class TestCreate:
    async def test_defaults(self, client_for, world, tenant):
        c = await client_for(world["ta"], tenant)
        r = await c.post(f"/api/v1/courses/{world['course'].id}/assignments", json={"title": "Journal"})
        assert r.status_code == 201, r.text
        a = r.json()
        assert [s["key"] for s in a["stages"]] == ["brainstorm", "outline", "draft", "revise", "edit"]
        assert a["kind"] == "individual" and a["published_at"] is None and a["rubric"] is None
        assert a["ai_settings"] == {} and a["objectives"] == [] and a["late_policy"] == "accept"
        assert a["resubmission"] == "until_due" and a["ai_statement_required"] is False

    async def test_everything_with_rubric_totals_and_safe_html(self, client_for, session, world, tenant):
        c = await client_for(world["instructor"], tenant)
        r = await c.post(f"/api/v1/courses/{world['course'].id}/assignments", json=FULL)
        assert r.status_code == 201, r.text
        a = r.json()
        assert a["stages"][0] == {"key": "outline", "label": "Outline", "due_at": "2026-12-01T16:00:00+00:00"}
        assert a["stages"][2]["due_at"] is None
        assert a["rubric"]["total_points"] == 9.5
        crit = a["rubric"]["criteria"]
        assert crit[1]["id"] == "evidence" and crit[0]["id"] and all(lv["id"] for c_ in crit for lv in c_["levels"])
        assert a["objectives"][0] == {"text": "Build an argument", "bloom": "create"}
        html = a["instructions_html"]
        assert "<strong>argument</strong>" in html and "<script" not in html and "&lt;script&gt;" in html
        assert 'href="javascript' not in html
        assert "assignment.created" in await actions(session)
        # the same answer when reading back, as a student once published
        assert (await c.post(f"/api/v1/assignments/{a['id']}/publish")).status_code == 200
        s = await client_for(world["student"], tenant)
        got = (await s.get(f"/api/v1/assignments/{a['id']}")).json()
        assert got["rubric"] == a["rubric"] and got["instructions_html"] == html

    @pytest.mark.parametrize(
        ("change", "needle"),
        [
            ({"title": ""}, "title"),
            ({"kind": "team"}, "kind"),
            ({"word_min": -1}, "word_min"),
            ({"word_min": 900, "word_max": 100}, "minimum word count"),
            ({"late_policy": "sometimes"}, "late_policy"),
            ({"late_policy": "penalty", "late_penalty_percent": 0}, "percentage"),
            ({"late_penalty_percent": 101}, "late_penalty_percent"),
            ({"resubmission": "always"}, "resubmission"),
            ({"objectives": [{"text": "Recall", "bloom": "memorize"}]}, "bloom"),
            ({"objectives": [{"text": "", "bloom": "apply"}]}, "text"),
            ({"rubric": {"criteria": []}}, "criteria"),
            ({"rubric": {"criteria": [{"title": "T", "levels": []}]}}, "levels"),
            ({"rubric": {"criteria": [{"title": "T", "levels": [{"label": "L", "points": -1}]}]}}, "points"),
            (
                {
                    "rubric": {
                        "criteria": [
                            {"title": "T", "levels": [{"label": "L", "points": 1}, {"label": "l", "points": 2}]}
                        ]
                    }
                },
                "different label",
            ),
            ({"stages": []}, "stages"),
            ({"stages": [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]}, "different key"),
            ({"stages": [{"key": "Bad Key!", "label": "A"}]}, "key"),
            ({"stages": [{"key": "a", "label": "A", "due_at": "2026-12-01T10:00:00"}]}, "due_at"),
            (
                {
                    "stages": [
                        {"key": "a", "label": "A", "due_at": "2026-12-02T10:00:00Z"},
                        {"key": "b", "label": "B", "due_at": "2026-12-01T10:00:00Z"},
                    ]
                },
                "in order",
            ),
            (
                {
                    "due_at": "2026-12-01T00:00:00Z",
                    "stages": [{"key": "a", "label": "A", "due_at": "2026-12-02T00:00:00Z"}],
                },
                "after the assignment",
            ),
            ({"ai_settings": ["not", "an", "object"]}, "ai_settings"),
            ({"ai_settings": {"blob": "x" * 20_000}}, "limit is 16384"),
            ({"instructions_md": "x" * 50_001}, "instructions_md"),
            ({"unknown_field": 1}, "unknown_field"),
        ],
    )
    async def test_bad_input_is_refused_and_nothing_is_stored(self, client_for, session, world, tenant, change, needle):
        c = await client_for(world["instructor"], tenant)
        r = await c.post(f"/api/v1/courses/{world['course'].id}/assignments", json={"title": "T", **change})
        assert r.status_code == 422, r.text
        assert needle in r.text, r.text
        await session.commit()
        assert (await session.execute(select(Assignment))).first() is None

    async def test_students_cannot_create(self, client_for, session, world, tenant):
        s = await client_for(world["student"], tenant)
        r = await s.post(f"/api/v1/courses/{world['course'].id}/assignments", json={"title": "Mine"})
        assert r.status_code == 403 and r.json()["error"] == "CourseRoleRequired"


class TestVisibilityAndPublishing:
    async def test_students_see_published_only_and_only_instructors_publish(self, client_for, session, world, tenant):
        course = world["course"]
        pub = await create_assignment(session, course, published=True, title="Open")
        draft = await create_assignment(session, course, published=False, title="Hidden")
        await session.commit()
        s = await client_for(world["student"], tenant)
        assert [a["title"] for a in (await s.get(f"/api/v1/courses/{course.id}/assignments")).json()] == ["Open"]
        assert (await s.get(f"/api/v1/assignments/{draft.id}")).status_code == 404
        assert (await s.get(f"/api/v1/assignments/{draft.id}/groups")).status_code == 404
        t = await client_for(world["ta"], tenant)
        assert len((await t.get(f"/api/v1/courses/{course.id}/assignments")).json()) == 2
        r = await t.post(f"/api/v1/assignments/{draft.id}/publish")
        assert r.status_code == 403 and r.json()["error"] == "CourseRoleRequired"
        assert (await s.post(f"/api/v1/assignments/{pub.id}/unpublish")).status_code == 403
        i = await client_for(world["instructor"], tenant)
        r = await i.post(f"/api/v1/assignments/{draft.id}/publish")
        assert r.status_code == 200 and r.json()["published_at"]
        assert (await s.get(f"/api/v1/assignments/{draft.id}")).status_code == 200
        assert (await i.post(f"/api/v1/assignments/{pub.id}/unpublish")).json()["published_at"] is None
        assert (await s.get(f"/api/v1/assignments/{pub.id}")).status_code == 404
        got = await actions(session)
        assert got.count("assignment.published") == 1 and got.count("assignment.unpublished") == 1

    async def test_outsiders_and_other_tenants_get_404(self, client_for, session, world, tenant, other_tenant):
        a = await create_assignment(session, world["course"])
        outsider, _ = await create_member(session, tenant, Role.educator)
        intruder, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        for c in (await client_for(outsider, tenant), await client_for(intruder, other_tenant)):
            for method, url, body in (
                ("GET", f"/api/v1/assignments/{a.id}", None),
                ("PATCH", f"/api/v1/assignments/{a.id}", {"title": "Hacked"}),
                ("DELETE", f"/api/v1/assignments/{a.id}", None),
                ("POST", f"/api/v1/assignments/{a.id}/unpublish", None),
                ("GET", f"/api/v1/assignments/{a.id}/groups", None),
            ):
                r = await c.request(method, url, json=body)
                assert r.status_code == 404, (method, url, r.text)
        row = await assignment_row(session, a.id)
        assert row is not None and row.title == a.title and row.published_at is not None


class TestUpdateDeleteClone:
    async def test_partial_update_null_clears_and_merged_rules(self, client_for, session, world, tenant):
        a = await create_assignment(session, world["course"], word_min=100, word_max=200, rubric=RUBRIC)
        await session.commit()
        t = await client_for(world["ta"], tenant)
        url = f"/api/v1/assignments/{a.id}"
        r = await t.patch(url, json={"title": "New title", "rubric": None, "word_max": None})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["title"], body["rubric"], body["word_min"], body["word_max"]) == ("New title", None, 100, None)
        r = await t.patch(url, json={"word_max": 50})
        assert r.status_code == 422 and r.json()["error"] == "AssignmentInvalid"
        r = await t.patch(url, json={"title": None})
        assert r.status_code == 422 and "cannot be empty" in r.json()["detail"]
        r = await t.patch(url, json={"late_policy": "penalty"})
        assert r.status_code == 422 and "percentage" in r.json()["detail"]
        r = await t.patch(url, json={"due_at": "2026-12-01T00:00:00Z"})
        assert r.status_code == 200
        late_stage = [{"key": "draft", "label": "Draft", "due_at": "2026-12-03T00:00:00Z"}]
        r = await t.patch(url, json={"stages": late_stage})
        assert r.status_code == 422 and "after the assignment" in r.json()["detail"]
        row = await assignment_row(session, a.id)
        assert row.word_max is None and row.late_policy == "accept" and len(row.stages) == 5
        assert row.due_at == datetime(2026, 12, 1, tzinfo=UTC)
        ev = (
            (await session.execute(select(AuditEvent).where(AuditEvent.action == "assignment.updated"))).scalars().all()
        )
        assert [e.details["fields"] for e in ev] == [["rubric", "title", "word_max"], ["due_at"]]

    async def test_delete_is_for_instructors(self, client_for, session, world, tenant):
        a = await create_assignment(session, world["course"], kind=AssignmentKind.group)
        await create_group(session, a, [world["student"]])
        await session.commit()
        assert (await (await client_for(world["ta"], tenant)).delete(f"/api/v1/assignments/{a.id}")).status_code == 403
        i = await client_for(world["instructor"], tenant)
        assert (await i.delete(f"/api/v1/assignments/{a.id}")).status_code == 204
        assert await assignment_row(session, a.id) is None
        assert (await i.get(f"/api/v1/assignments/{a.id}")).status_code == 404
        assert "assignment.deleted" in await actions(session)

    async def test_clone_into_a_course_you_teach(self, client_for, session, world, tenant):
        a = await create_assignment(
            session,
            world["course"],
            rubric=RUBRIC,
            due_at=datetime(2026, 12, 1, tzinfo=UTC),
            stages=[{"key": "draft", "label": "Draft", "due_at": "2026-11-30T00:00:00+00:00"}],
        )
        other = await create_course(session, tenant)
        foreign = await create_course(session, tenant)
        from tests.factories.courses import enroll

        await enroll(session, other, world["instructor"], CourseRole.instructor)
        await session.commit()
        i = await client_for(world["instructor"], tenant)
        r = await i.post(f"/api/v1/assignments/{a.id}/clone", json={"course_id": str(other.id), "title": "Copy"})
        assert r.status_code == 201, r.text
        copy = r.json()
        assert copy["course_id"] == str(other.id) and copy["title"] == "Copy" and copy["published_at"] is None
        assert copy["rubric"] == RUBRIC and copy["due_at"] is None and copy["stages"][0]["due_at"] is None
        r = await i.post(f"/api/v1/assignments/{a.id}/clone", json={"course_id": str(foreign.id)})
        assert r.status_code == 404
        s = await client_for(world["student"], tenant)
        r = await s.post(f"/api/v1/assignments/{a.id}/clone", json={"course_id": str(world["course"].id)})
        assert r.status_code == 403
        assert (await actions(session)).count("assignment.cloned") == 1


class TestGroups:
    async def test_group_lifecycle(self, client_for, session, world, tenant):
        a = await create_assignment(session, world["course"], kind=AssignmentKind.group)
        solo = await create_assignment(session, world["course"])
        await session.commit()
        t = await client_for(world["ta"], tenant)
        url = f"/api/v1/assignments/{a.id}/groups"
        s1, s2 = world["student"], world["student2"]
        r = await t.post(f"/api/v1/assignments/{solo.id}/groups", json={"name": "G"})
        assert r.status_code == 422 and "group assignments" in r.json()["detail"]
        r = await t.post(url, json={"name": "Oaks", "user_ids": [str(s1.id)]})
        assert r.status_code == 201, r.text
        oaks = r.json()
        assert oaks["user_ids"] == [str(s1.id)]
        r = await t.post(url, json={"name": "Oaks"})
        assert r.status_code == 409 and r.json()["error"] == "GroupNameTaken"
        r = await t.post(url, json={"name": "Pines", "user_ids": [str(s1.id)]})
        assert r.status_code == 409 and r.json()["error"] == "AlreadyInGroup"
        r = await t.post(url, json={"name": "Pines", "user_ids": [str(world["ta"].id)]})
        assert r.status_code == 422 and "Only students" in r.json()["detail"]
        pines = (await t.post(url, json={"name": "Pines", "user_ids": [str(s2.id)]})).json()
        # a student sees only their own group
        mine = (await (await client_for(s1, tenant)).get(url)).json()
        assert [g["name"] for g in mine] == ["Oaks"]
        assert [g["name"] for g in (await t.get(url)).json()] == ["Oaks", "Pines"]
        # move s1 into Pines, rename, delete
        r = await t.patch(f"{url}/{oaks['id']}", json={"user_ids": []})
        assert r.status_code == 200 and r.json()["user_ids"] == []
        r = await t.patch(f"{url}/{pines['id']}", json={"name": "Elms", "user_ids": [str(s1.id), str(s2.id)]})
        assert r.status_code == 200 and r.json()["name"] == "Elms" and len(r.json()["user_ids"]) == 2
        assert (await t.patch(f"{url}/{uuid.uuid4()}", json={"name": "X"})).status_code == 404
        assert (await t.delete(f"{url}/{oaks['id']}")).status_code == 204
        s = await client_for(s1, tenant)
        assert (await s.post(url, json={"name": "Mine"})).status_code == 403
        got = await actions(session)
        assert got.count("assignment.group_created") == 2 and "assignment.group_deleted" in got

    async def test_removing_a_student_takes_them_out_of_groups(self, client_for, session, world, tenant):
        a = await create_assignment(session, world["course"], kind=AssignmentKind.group)
        await create_group(session, a, [world["student"], world["student2"]], name="Both")
        await session.commit()
        i = await client_for(world["instructor"], tenant)
        r = await i.delete(f"/api/v1/courses/{world['course'].id}/members/{world['student'].id}")
        assert r.status_code == 204
        groups = (await i.get(f"/api/v1/assignments/{a.id}/groups")).json()
        assert groups[0]["user_ids"] == [str(world["student2"].id)]


class TestTemplates:
    async def test_library_sharing_and_deploy(self, client_for, session, world, tenant):
        author, _ = await create_member(session, tenant, Role.educator)
        colleague = world["instructor"]
        await session.commit()
        a = await client_for(author, tenant)
        body = {k: v for k, v in FULL.items() if k not in ("due_at", "stages")}
        r = await a.post("/api/v1/assignment-templates", json={**body, "description": "Reusable"})
        assert r.status_code == 201, r.text
        tpl = r.json()
        assert tpl["visibility"] == "private" and tpl["rubric"]["total_points"] == 9.5
        c = await client_for(colleague, tenant)
        assert (await c.get(f"/api/v1/assignment-templates/{tpl['id']}")).status_code == 404
        assert (await c.get("/api/v1/assignment-templates")).json() == []
        r = await a.patch(f"/api/v1/assignment-templates/{tpl['id']}", json={"visibility": "institution"})
        assert r.status_code == 200 and r.json()["visibility"] == "institution"
        assert [t["id"] for t in (await c.get("/api/v1/assignment-templates")).json()] == [tpl["id"]]
        r = await c.patch(f"/api/v1/assignment-templates/{tpl['id']}", json={"title": "Mine now"})
        assert r.status_code == 403 and r.json()["error"] == "TemplateAuthorRequired"
        assert (await c.delete(f"/api/v1/assignment-templates/{tpl['id']}")).status_code == 403
        # deploy into a course the colleague teaches
        r = await c.post(
            f"/api/v1/assignment-templates/{tpl['id']}/deploy",
            json={"course_id": str(world["course"].id), "due_at": "2026-12-24T12:00:00Z"},
        )
        assert r.status_code == 201, r.text
        deployed = r.json()
        assert deployed["template_id"] == tpl["id"] and deployed["published_at"] is None
        assert deployed["rubric"] == tpl["rubric"] and deployed["due_at"].startswith("2026-12-24T12:00:00")
        # the author cannot deploy into a course they do not teach
        r = await a.post(
            f"/api/v1/assignment-templates/{tpl['id']}/deploy", json={"course_id": str(world["course"].id)}
        )
        assert r.status_code == 404
        got = await actions(session)
        assert {"template.created", "template.updated", "template.deployed"} <= set(got)

    async def test_templates_carry_no_stage_dates(self, client_for, world, tenant):
        c = await client_for(world["instructor"], tenant)
        stages = [{"key": "draft", "label": "Draft", "due_at": "2026-12-01T00:00:00Z"}]
        r = await c.post("/api/v1/assignment-templates", json={"title": "T", "stages": stages})
        assert r.status_code == 422 and "stage due dates" in r.json()["detail"]

    async def test_save_assignment_as_template_and_delete(self, client_for, session, world, tenant):
        a = await create_assignment(
            session, world["course"], stages=[{"key": "draft", "label": "Draft", "due_at": "2026-11-30T00:00:00+00:00"}]
        )
        await session.commit()
        c = await client_for(world["instructor"], tenant)
        r = await c.post("/api/v1/assignment-templates/from-assignment", json={"assignment_id": str(a.id)})
        assert r.status_code == 201, r.text
        assert r.json()["title"] == a.title and r.json()["stages"][0]["due_at"] is None
        assert (await c.delete(f"/api/v1/assignment-templates/{r.json()['id']}")).status_code == 204
        await session.commit()
        assert (await session.execute(select(AssignmentTemplate))).first() is None

    @pytest.mark.parametrize("who", ["student", "ta"])
    async def test_students_and_tas_have_no_library(self, client_for, session, world, tenant, who):
        shared = await create_template(session, tenant, visibility=TemplateVisibility.institution)
        await session.commit()
        c = await client_for(world[who], tenant)
        assert (await c.get("/api/v1/assignment-templates")).status_code == 403
        assert (await c.get(f"/api/v1/assignment-templates/{shared.id}")).status_code == 404
        r = await c.post("/api/v1/assignment-templates", json={"title": "Mine"})
        assert r.status_code == 403

    async def test_admins_see_every_template_and_other_tenants_none(
        self, client_for, session, world, tenant, other_tenant
    ):
        private = await create_template(session, tenant)
        admin, _ = await create_member(session, tenant, Role.institution_admin)
        intruder, _ = await create_member(session, other_tenant, Role.institution_admin)
        await session.commit()
        a = await client_for(admin, tenant)
        assert [t["id"] for t in (await a.get("/api/v1/assignment-templates")).json()] == [str(private.id)]
        x = await client_for(intruder, other_tenant)
        assert (await x.get("/api/v1/assignment-templates")).json() == []
        assert (await x.get(f"/api/v1/assignment-templates/{private.id}")).status_code == 404
        assert (await x.delete(f"/api/v1/assignment-templates/{private.id}")).status_code == 404


class TestMyAssignments:
    async def test_across_courses_soonest_first(self, client_for, session, world, tenant, other_tenant):
        from datetime import timedelta

        from tests.factories.courses import enroll

        now = datetime(2026, 12, 1, tzinfo=UTC)
        second = await create_course(session, tenant, title="Second")
        archived = await create_course(session, tenant, title="Old")
        await enroll(session, second, world["student"])
        await enroll(session, archived, world["student"])
        await create_assignment(session, world["course"], title="Later", due_at=now + timedelta(days=5))
        await create_assignment(session, second, title="Sooner", due_at=now + timedelta(days=1))
        await create_assignment(session, second, title="Undated")
        await create_assignment(session, second, title="Draft", published=False, due_at=now)
        await create_assignment(session, archived, title="Gone", due_at=now)
        elsewhere = await create_course(session, other_tenant)
        await create_assignment(session, elsewhere, title="Elsewhere", due_at=now)
        from scribetree.core import clock

        archived.archived_at = clock.utcnow()
        await session.commit()
        s = await client_for(world["student"], tenant)
        r = await s.get("/api/v1/assignments")
        assert r.status_code == 200, r.text
        got = r.json()
        assert [(a["title"], a["course_title"], a["my_role"]) for a in got] == [
            ("Sooner", "Second", "student"),
            ("Later", world["course"].title, "student"),
            ("Undated", "Second", "student"),
        ]
        t = await client_for(world["ta"], tenant)
        assert [a["title"] for a in (await t.get("/api/v1/assignments")).json()] == ["Later"]
