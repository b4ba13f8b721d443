"""Review in Chromium on a 375 px phone: the educator opens the submission list from the assignment page, opens a
submission, selects a passage with the mouse, comments on it, scores the rubric, returns the grade and reopens the
document; the student signs in, sees the bell's count, the comment's passage highlighted and the grade, on the
submission and in the text being revised. No page scrolls sideways, no
console or CSP errors. Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS`` to change)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import CourseRole
from tests.browser.conftest import SCREENSHOTS
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant
from tests.factories.writing import create_document, create_submission, ins, write

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "has_touch": True}
TEXT = "Dear reader 🌳,\r\nTrees <b>talk</b> to each other through their roots.\nThat is my claim."
PASSAGE = "through their roots"


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-review-{name}.png"), full_page=True)


async def _sign_in(page: Page, server: str, email: str) -> None:
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")


async def _select(page: Page, words: str) -> None:
    """Drag the mouse across ``words`` in the student's text, as a person selects a passage."""
    box = await page.evaluate(
        """(words) => {
          const el = document.getElementById("review-text");
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.data.indexOf(words);
            if (at < 0) continue;
            el.scrollIntoView({ block: "center" });
            const r = document.createRange();
            r.setStart(node, at);
            r.setEnd(node, at + words.length);
            const rects = r.getClientRects();
            const first = rects[0], last = rects[rects.length - 1];
            return { x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1,
                     y2: last.top + last.height / 2 };
          }
          return null;
        }""",
        words,
    )
    assert box, f"{words!r} is not in the text"
    await page.mouse.move(box["x1"], box["y1"])
    await page.mouse.down()
    await page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2, steps=4)
    await page.mouse.move(box["x2"], box["y2"], steps=4)
    await page.mouse.up()
    assert await page.evaluate("window.getSelection().toString()") == words


async def test_educator_comments_and_grades_student_sees_it(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    assignment = await create_assignment(session, course, title="Letter to a reader", rubric=RUBRIC)
    doc = await create_document(session, assignment, owner=student)
    await write(session, doc, student, [ins(0, TEXT)])
    await create_submission(session, doc, student)
    await session.commit()

    problems: list[str] = []

    def watch(page: Page) -> None:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    watch(page)
    await _sign_in(page, server, teacher.email)
    await page.goto(f"{server}/courses/{course.id}/assignments/{assignment.id}")
    await page.get_by_role("link", name="Submissions").click()
    await page.wait_for_url("**/submissions")
    await _fits(page, "list")
    row = page.locator("tr", has_text="Alan Turing")
    assert await row.get_attribute("data-status") == "submitted"
    await row.get_by_role("link", name="Open").click()
    await page.wait_for_url("**/submissions/*")
    await _fits(page, "reader")
    assert await page.locator("#review-text").text_content() == TEXT  # as text, code point for code point

    await _select(page, PASSAGE)
    await page.get_by_role("button", name="Comment on the selected words").focus()
    await page.keyboard.press("Enter")  # the button is reachable and works from the keyboard
    assert await page.get_by_label("Passage").input_value() == PASSAGE
    # offsets in code points of the stored text (the tree emoji is two UTF-16 units, the CR a character of its own)
    start = TEXT.index(PASSAGE)
    assert await page.locator("[data-anchor-start]").input_value() == str(start)
    assert await page.locator("[data-anchor-end]").input_value() == str(start + len(PASSAGE))
    await page.get_by_label("Comment", exact=True).fill("Which roots? Say more <i>here</i>.")
    await page.get_by_role("button", name="Comment", exact=True).click()
    await page.wait_for_url("**/submissions/*#comment-*")
    mark = page.locator("#review-text mark.passage")
    assert await mark.text_content() == PASSAGE

    await page.get_by_label("Exemplary — 4 points").check()
    await page.get_by_label("Overall feedback").fill("A clear claim. Support it with one example.")
    await page.get_by_role("button", name="Return to student…").click()
    await page.wait_for_url("**/return")
    await _fits(page, "confirm-return")
    await page.get_by_role("button", name="Return to student").click()
    await page.get_by_text("The grade was returned").wait_for()
    assert await page.locator("[data-grade-total]").first.text_content() == "4 / 4"
    await _fits(page, "returned")

    # reopen it for the student from the same page, through its confirmation
    await page.get_by_role("link", name="Reopen for the student…").click()
    await page.wait_for_url("**/review/reopen")
    await page.get_by_role("heading", name="Reopen the document for Alan Turing?").wait_for()
    await _fits(page, "confirm-reopen")
    await page.get_by_role("button", name="Reopen for Alan Turing").click()
    await page.get_by_text("Reopened: Alan Turing can edit the document").wait_for()
    assert await page.get_by_role("link", name="Reopen for the student…").count() == 0
    await context.close()

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    watch(page)
    await _sign_in(page, server, student.email)
    bell = page.locator(".bell__count")
    await bell.wait_for()
    assert await bell.text_content() == "3"  # the comment, the returned grade and the reopening
    await page.get_by_role("link", name="Notifications").click()
    await page.wait_for_url("**/notifications")  # measuring while the page is still being replaced finds no document
    await _fits(page, "notifications")
    returned = page.locator(".notice", has_text="Feedback returned: Letter to a reader")
    await returned.get_by_role("button", name="Open").click()
    await page.wait_for_url("**/feedback")
    assert await page.locator("#review-text mark.passage").text_content() == PASSAGE
    assert "Which roots? Say more <i>here</i>." in (await page.locator(".thread__body").first.text_content() or "")
    assert await page.locator("[data-grade-total]").text_content() == "4 / 4"
    assert "Support it with one example." in (await page.locator("#overall-feedback").text_content() or "")
    await _fits(page, "student-feedback")
    # reopened: the comments also in the text being revised (the same text here), the grade on the submission
    await page.get_by_role("link", name="Your current text").click()
    await page.wait_for_url("**/feedback?draft=1")
    assert await page.locator("#review-text mark.passage").text_content() == PASSAGE
    await page.get_by_text("Grades are given on submissions").wait_for()
    await page.get_by_role("link", name="Submission 1").click()
    await page.wait_for_url("**/feedback?submission=*")
    assert await page.locator("[data-grade-total]").text_content() == "4 / 4"
    await _fits(page, "student-feedback-attempts")
    await context.close()
    assert not problems, problems
