"""AI partner pages over HTTP: the editor's "Writing partner" panel in each state (reflection first, ready to ask,
follow-up due, exam mode, off for the stage, budget used with its reset time, submitted), the history page for the
student and the staff, the educator's settings form (validation errors tied to labels, nothing stored on error,
TAs read only), the class view, the AI-use summary on the submission reader; escaping of what students wrote and
what the partner answered; 404 for other students' documents and other institutions."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from scribetree.courses.models import Assignment, CourseRole
from scribetree.writing.models import Document, DocumentStatus
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.writing import create_document, create_submission
from tests.fixtures.auth import make_client
from tests.web.test_courses_pages import assert_accessible_form

DRAFT = (
    "Social media harms teenage sleep. Studies from Norway show that screen use after ten pm delays sleep onset. "
    "My second paragraph argues that schools should start later, because adolescent body clocks shift."
)
GOOD = (
    "I realised that my second paragraph assumes schools can change start times easily, but I did not consider "
    "the cost for buses. Because my claim about sleep onset relies on one Norway study, my evidence is weaker than "
    "I thought, so I will look for another source. I tend to write the conclusion first and then struggle to "
    "connect it. On the other hand, someone might argue that parents, not schools, should limit screen use. Next I "
    "will revise the second paragraph so that it answers that objection <script>alert('r')</script>, and my goal "
    "is to understand how to weigh two sources against each other. Is one study enough?"
)
EVIL_QUESTION = "Is my second paragraph convincing? <script>alert('q')</script>"


def panel_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="partner-data">(.*?)</script>', html, re.S)
    assert match, "the page carries no partner data"
    return json.loads(match.group(1))


def section(html: str, sid: str) -> str:
    match = re.search(rf'<section class="partner-step[^"]*" id="{sid}"[^>]*>', html)
    assert match, sid
    return match.group(0)


def hidden(html: str, sid: str) -> bool:
    return " hidden" in section(html, sid)


def no_raw_script(html: str) -> None:
    assert "<script>alert" not in html and "alert('" not in html.replace("alert(&#39;", "")
    assert "&lt;script&gt;alert(" in html


class People:
    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)


@pytest.fixture
async def people(app, session: AsyncSession, tenant):
    course = await create_course(session, tenant, title="Essays")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Ms Teach")
    ta = await create_course_member(session, course, tenant, CourseRole.ta, display_name="Tom TA")
    alice = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alice <b>A</b>")
    bob = await create_course_member(session, course, tenant, CourseRole.student, display_name="Bob")
    a = await create_assignment(session, course, title="On sleep", ai_statement_required=True)
    doc = await create_document(session, a, owner=alice, text=DRAFT)
    await session.commit()
    clients: list[httpx.AsyncClient] = []

    async def client_for(user, t=tenant) -> httpx.AsyncClient:
        c = await make_client(app, session, user, t)
        clients.append(c)
        return c

    yield People(
        course=course, teacher=teacher, ta=ta, alice=alice, bob=bob, a=a, doc=doc, client_for=client_for, tenant=tenant
    )
    for c in clients:
        await c.aclose()


async def set_ai(session: AsyncSession, assignment: Assignment, **values: Any) -> None:
    await session.commit()
    row = await session.get(Assignment, assignment.id)
    assert row is not None
    row.ai_settings = values
    await session.commit()


async def stored_ai(session: AsyncSession, assignment: Assignment) -> dict[str, Any]:
    await session.commit()
    stored = (await session.execute(select(Assignment.ai_settings).where(Assignment.id == assignment.id))).scalar_one()
    await session.commit()
    return dict(stored or {})


async def reflect(c: httpx.AsyncClient, doc: Document, text: str = GOOD, kind: str = "initial") -> dict[str, Any]:
    r = await c.post(
        f"/api/v1/documents/{doc.id}/reflections",
        json={"text": text, "kind": kind, "seconds_spent": 400, "pasted_chars": 0},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def ask(c: httpx.AsyncClient, doc: Document, question: str = EVIL_QUESTION) -> dict[str, Any]:
    r = await c.post(f"/api/v1/documents/{doc.id}/partner", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()


# ---- the editor's side panel --------------------------------------------------------------------------------


async def test_panel_asks_for_a_reflection_first(people) -> None:
    alice = await people.client_for(people.alice)
    r = await alice.get(f"/assignments/{people.a.id}/write")
    assert r.status_code == 200, r.text
    html = r.text
    assert "<summary>Writing partner</summary>" in html and "The partner is available now." in html
    assert not hidden(html, "partner-reflect") and hidden(html, "partner-ask") and hidden(html, "partner-answer")
    assert "Reflect first" in html and 'for="reflection-text"' in html
    assert 'id="reflection-count" aria-live="polite"' in html
    assert "Your level: <strong data-level>Basic</strong>" in html
    data = panel_data(html)
    assert data == {
        "documentId": str(people.doc.id),
        "api": "/api/v1",
        "due": "initial",
        "minWords": 40,
        "followUpMin": 20,
        "followUp": True,
        "required": True,
        "available": True,
    }
    assert re.search(r'<script type="module" src="/static/js/partner\.js\?v=\w+">', html)
    assert "insert" not in section(html, "partner-answer").lower()
    assert "<script>" not in html.replace('<script type="application/json"', "")  # no inline script (CSP)
    assert_accessible_form(html)
    assert f'href="/documents/{people.doc.id}/partner"' in html


async def test_panel_after_a_reflection_then_an_answer_wants_the_follow_up(people) -> None:
    alice = await people.client_for(people.alice)
    await reflect(alice, people.doc)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert hidden(html, "partner-reflect") and not hidden(html, "partner-ask")
    assert panel_data(html)["due"] is None
    await ask(alice, people.doc)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert not hidden(html, "partner-reflect") and hidden(html, "partner-ask")
    assert "What will you change?" in html and panel_data(html) | {} == panel_data(html)
    assert panel_data(html)["due"] == "follow_up" and panel_data(html)["minWords"] == 20
    assert "1</span> of 6 this hour" in html


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"exam_mode": True}, "Exam mode: the AI partner is off for this assignment."),
        ({"enabled": False}, "Your teacher has turned the AI partner off for this assignment."),
        ({"stages": {"brainstorm": {"enabled": False}}}, "Your teacher has turned the AI partner off during the"),
        ({"kinds": []}, "Your teacher allows no kind of help in this assignment."),
    ],
)
async def test_panel_says_why_the_partner_is_off(people, session, settings, reason) -> None:
    await set_ai(session, people.a, **settings)
    alice = await people.client_for(people.alice)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert 'data-available="no"' in html and reason in html
    assert hidden(html, "partner-reflect") and hidden(html, "partner-ask")
    assert panel_data(html)["available"] is False


async def test_panel_shows_when_the_budget_resets(people, session) -> None:
    await set_ai(session, people.a, budget_per_hour=1, budget_per_day=5, reflection_required=False)
    alice = await people.client_for(people.alice)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert 'data-available="yes"' in html and not hidden(html, "partner-ask")
    await ask(alice, people.doc)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert 'data-available="no"' in html and hidden(html, "partner-ask")
    assert re.search(
        r"You have used your requests for now \(1 an hour, 5 a day at your level\)\. "
        r"You can ask again at \d\d:\d\d UTC\.",
        html,
    ), html


async def test_panel_is_closed_on_a_submitted_document(people, session) -> None:
    doc = await session.get(Document, people.doc.id)
    assert doc is not None
    await create_submission(session, doc, people.alice)
    doc.status = DocumentStatus.submitted
    await session.commit()
    alice = await people.client_for(people.alice)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert "the partner is closed for it" in html and hidden(html, "partner-reflect") and hidden(html, "partner-ask")


async def test_staff_see_no_panel_on_the_editor(people) -> None:
    teacher = await people.client_for(people.teacher)
    r = await teacher.get(f"/assignments/{people.a.id}/write")
    assert r.status_code == 200 and "partner-panel" not in r.text and "partner.js" not in r.text


# ---- history ------------------------------------------------------------------------------------------------


async def test_history_for_the_student_and_the_staff_escapes_everything(people, session) -> None:
    alice = await people.client_for(people.alice)
    empty = await alice.get(f"/documents/{people.doc.id}/partner")
    assert empty.status_code == 200 and "Nothing yet" in empty.text
    result = await reflect(alice, people.doc)
    exchange = await ask(alice, people.doc)
    r = await alice.get(f"/documents/{people.doc.id}/partner")
    assert r.status_code == 200
    no_raw_script(r.text)
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt;" in r.text  # the question, as text
    assert "&lt;script&gt;alert(&#39;r&#39;)&lt;/script&gt;" in r.text  # the reflection, as text
    assert f"Reflection: {result['reflection']['total']} / 20" in r.text and "Your level:" in r.text
    for q in exchange["questions"]:
        assert str(q).replace("'", "&#39;").replace('"', "&#34;") in r.text.replace("&quot;", "&#34;")
    assert 'data-entry="reflection"' in r.text and 'data-entry="exchange"' in r.text
    assert "Back to your writing" in r.text and "checks:" not in r.text  # verdicts are the staff's detail
    teacher = await people.client_for(people.teacher)
    r = await teacher.get(f"/documents/{people.doc.id}/partner")
    assert r.status_code == 200 and "Alice &lt;b&gt;A&lt;/b&gt;" in r.text and "checks: passed" in r.text
    no_raw_script(r.text)
    await session.commit()
    actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    await session.commit()
    assert "ai_partner.history_viewed" in actions


async def test_other_students_and_institutions_get_404(people, session, other_tenant) -> None:
    bob = await people.client_for(people.bob)
    for url in (f"/documents/{people.doc.id}/partner", f"/documents/{people.doc.id}/partner/summary"):
        assert (await bob.get(url)).status_code == 404, url
    outsider_course = await create_course(session, other_tenant, title="Elsewhere")
    outsider = await create_course_member(session, outsider_course, other_tenant, CourseRole.instructor)
    await session.commit()
    stranger = await people.client_for(outsider, other_tenant)
    for url in (
        f"/documents/{people.doc.id}/partner",
        f"/assignments/{people.a.id}/partner",
        f"/assignments/{people.a.id}/partner/settings",
        f"/documents/{people.doc.id}/partner/summary",
        "/documents/not-an-id/partner",
    ):
        assert (await stranger.get(url)).status_code == 404, url
    r = await stranger.post(f"/assignments/{people.a.id}/partner/settings", data={"budget_per_hour": "1"})
    assert r.status_code == 404
    # a student cannot open the class view (it is the staff's)
    assert (await bob.get(f"/assignments/{people.a.id}/partner")).status_code == 403


# ---- the educator's settings --------------------------------------------------------------------------------


def settings_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "enabled": "on",
        "kinds": ["evidence", "clarity"],
        "budget_per_hour": "3",
        "budget_per_day": "9",
        "reflection_required": "on",
        "reflection_min_words": "25",
        "follow_up_reflection": "on",
        "stage-brainstorm": "off",
        "stage-draft": "custom",
        "stage-draft-kinds": ["evidence"],
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def test_settings_form_saves_through_the_service(people, session) -> None:
    teacher = await people.client_for(people.teacher)
    page = await teacher.get(f"/courses/{people.course.id}/assignments/{people.a.id}")
    assert f'href="/assignments/{people.a.id}/partner/settings">AI partner settings</a>' in page.text
    r = await teacher.get(f"/assignments/{people.a.id}/partner/settings")
    assert r.status_code == 200 and "Save the AI partner settings" in r.text
    assert_accessible_form(r.text)
    r = await teacher.post(f"/assignments/{people.a.id}/partner/settings", data=settings_form())
    assert r.status_code == 303, r.text
    stored = await stored_ai(session, people.a)
    assert stored["kinds"] == ["evidence", "clarity"] and stored["budget_per_hour"] == 3
    assert stored["budget_per_day"] == 9 and stored["reflection_min_words"] == 25 and stored["exam_mode"] is False
    assert stored["stages"] == {
        "brainstorm": {"enabled": False, "kinds": None},
        "draft": {"enabled": True, "kinds": ["evidence"]},
    }
    r = await teacher.get(f"/assignments/{people.a.id}/partner/settings")
    assert "AI partner settings saved" in r.text
    assert re.search(r'<option value="off" selected>Off in this stage</option>', r.text)
    assert 'id="p-stage-draft-kinds-evidence" name="stage-draft-kinds" value="evidence" checked' in r.text
    # the student is told at once
    alice = await people.client_for(people.alice)
    html = (await alice.get(f"/assignments/{people.a.id}/write")).text
    assert "Your teacher has turned the AI partner off during the" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("budget_per_hour", "many", "Requests per hour: enter a whole number from 0 to 100."),
        ("budget_per_hour", "101", "Requests per hour: enter a whole number from 0 to 100."),
        ("reflection_min_words", "-1", "Minimum words of a reflection: enter a whole number from 0 to 500."),
        ("budget_per_day", "2", "The daily budget (2) cannot be smaller than the hourly one (3)."),
        ("kinds", ["writing"], "Choose kinds of help from the list."),
        ("stage-edit", "sometimes", "Choose what applies in the"),
    ],
)
async def test_settings_form_errors_are_shown_with_their_labels(people, session, field, value, message) -> None:
    teacher = await people.client_for(people.teacher)
    before = await stored_ai(session, people.a)
    r = await teacher.post(f"/assignments/{people.a.id}/partner/settings", data=settings_form(**{field: value}))
    assert r.status_code == 422, r.text
    assert message in r.text and "There is a problem" in r.text
    target = "p-kinds" if field == "kinds" else f"p-{field}"
    assert f'href="#{target}"' in r.text  # the summary links to the field
    if field == "kinds":
        assert '<p class="field__error" id="p-kinds-error">' in r.text
    else:
        assert f'for="p-{field}"' in r.text
        assert re.search(rf'aria-describedby="(p-{field}-hint )?p-{field}-error"', r.text)
    assert_accessible_form(r.text)
    if isinstance(value, str) and field.startswith("budget"):
        assert f'value="{value}"' in r.text  # what they typed is kept
    assert await stored_ai(session, people.a) == before  # nothing stored


async def test_teaching_assistants_read_the_settings_only(people, session) -> None:
    ta = await people.client_for(people.ta)
    r = await ta.get(f"/assignments/{people.a.id}/partner/settings")
    assert r.status_code == 200 and "you can read them" in r.text and "Save the AI partner settings" not in r.text
    before = await stored_ai(session, people.a)
    r = await ta.post(f"/assignments/{people.a.id}/partner/settings", data=settings_form())
    assert r.status_code == 403 and "teaching assistants and students can read them" in r.text
    assert await stored_ai(session, people.a) == before
    alice = await people.client_for(people.alice)
    r = await alice.post(f"/assignments/{people.a.id}/partner/settings", data=settings_form(exam_mode="on"))
    assert r.status_code == 403 and await stored_ai(session, people.a) == before


# ---- class view and the submission's summary --------------------------------------------------------------


async def test_class_view_and_submission_summary(people, session) -> None:
    alice = await people.client_for(people.alice)
    result = await reflect(alice, people.doc)
    await ask(alice, people.doc)
    teacher = await people.client_for(people.teacher)
    r = await teacher.get(f"/assignments/{people.a.id}/partner")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Alice &lt;b&gt;A&lt;/b&gt;" in html and "<b>A</b>" not in html
    card = html[html.index(f'data-student="{people.alice.id}"') :]
    card = card[: card.index("</li>")]
    assert "<dt>Requests</dt><dd>1</dd>" in card
    assert f"<dt>Mean reflection score</dt><dd>{result['reflection']['total']:.1f} / 20</dd>" in card
    assert f'href="/documents/{people.doc.id}/partner"' in card
    assert "Possible over-reliance" not in card
    # the reader loads the summary next to the AI-use statement
    doc = await session.get(Document, people.doc.id)
    assert doc is not None
    sub = await create_submission(session, doc, people.alice)
    await session.commit()
    reader = await teacher.get(f"/submissions/{sub.id}")
    assert reader.status_code == 200
    assert f'hx-get="/documents/{people.doc.id}/partner/summary"' in reader.text
    frag = await teacher.get(f"/documents/{people.doc.id}/partner/summary")
    assert frag.status_code == 200
    assert "1 request, 1 reflection" in frag.text
    assert f"mean score {float(result['reflection']['total'])}/20" in frag.text
    assert "<html" not in frag.text  # a fragment


async def test_summary_without_any_use(people) -> None:
    teacher = await people.client_for(people.teacher)
    frag = await teacher.get(f"/documents/{people.doc.id}/partner/summary")
    assert frag.status_code == 200 and "none (no reflection or question)" in frag.text
    r = await teacher.get(f"/assignments/{people.a.id}/partner")
    assert r.status_code == 200 and "<dt>Requests</dt><dd>0</dd>" in r.text
