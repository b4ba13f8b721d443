"""The live class view in Chromium: an educator watches while a student types in another browser context (real
key presses), against a real ``scribetree serve`` sharing the real Redis; a stuck classmate's alert, raised by
the alerts service's evaluation in this (other) process, arrives live and is announced; a 390 px phone without
sideways scrolling; without WebSockets the page says it refreshes every 30 s and reads live.json."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.alerts.service import alerts as alerts_service
from scribetree.core import clock, db, pubsub
from scribetree.core.config import settings
from scribetree.courses.models import CourseRole
from tests.browser.conftest import SCREENSHOTS
from tests.core.test_pubsub import need_redis
from tests.factories.alerts import add_batch
from tests.factories.courses import create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant
from tests.factories.writing import create_document
from tests.live.test_processes import REDIS_DB_URL, serve, wait_ready

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(database_url: str) -> Iterator[str]:
    need_redis()
    with serve(database_url, REDIS_DB_URL) as host:
        yield f"http://{host}"


async def _sign_in(context: BrowserContext, server: str, email: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    return page


async def test_educator_sees_a_student_typing_and_a_live_alert(
    browser: Browser, live_server: str, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await wait_ready(live_server.removeprefix("http://"))
    now = clock.utcnow()
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    teacher = await create_course_member(session, course, tenant, CourseRole.instructor, display_name="Grace Hopper")
    writer = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    stuck = await create_course_member(session, course, tenant, CourseRole.student, display_name="Bea <b>Stuck</b>")
    a = await create_assignment(
        session,
        course,
        title="Letter to a reader",
        word_min=20,
        due_at=now + timedelta(days=3),
        stages=[
            {"key": "draft", "label": "Draft", "due_at": (now + timedelta(days=1)).isoformat()},
            {"key": "final", "label": "Final", "due_at": (now + timedelta(days=3)).isoformat()},
        ],
    )
    # the classmate typed and deleted for 25 minutes without gaining a word (the alerts' "stuck" rule)
    doc = await create_document(session, a, owner=stuck, text="Some words here.")
    for i in range(26):
        await add_batch(session, doc, stuck, now - timedelta(minutes=25 - i), inserted="maybe ", deleted=12)
    await session.commit()

    problems: list[str] = []
    teacher_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    student_ctx = await browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        watch = await _sign_in(teacher_ctx, live_server, teacher.email)
        watch.on("pageerror", lambda e: problems.append(str(e)))
        await watch.goto(f"{live_server}/courses/{course.id}")
        await watch.get_by_role("link", name="Live class view").click()
        await watch.wait_for_url(f"**/courses/{course.id}/live")
        mode = watch.locator("#live-mode")
        await expect(mode).to_have_text("Live", timeout=10_000)
        row = watch.locator(f'tr[data-user-id="{writer.id}"]')
        await expect(row.locator(".js-writing")).to_have_text("No")
        await expect(row.locator(".js-words")).to_have_text("0")
        await expect(watch.get_by_role("row", name="Bea <b>Stuck</b>")).to_be_visible()  # a name is text, not HTML

        page = await _sign_in(student_ctx, live_server, writer.email)
        await page.goto(f"{live_server}/assignments/{a.id}/write")
        await expect(page.locator("#save-status")).to_have_text("Saved")
        await page.get_by_label("Your writing").click()
        await page.keyboard.type("Trees keep time in rings")
        await expect(page.locator("#save-status")).to_have_text("Saved", timeout=10_000)

        # the educator's page changes without a reload
        await expect(row.locator(".js-writing")).to_have_text("Writing now", timeout=10_000)
        await expect(row.locator(".js-words")).to_have_text("5", timeout=10_000)
        await expect(row.locator(".js-today")).to_have_text("5")
        await expect(row.locator(".js-status")).to_have_text("Writing")
        await page.keyboard.type(" and a dry year is thin.")
        await expect(row.locator(".js-words")).to_have_text("11", timeout=10_000)
        assert await watch.evaluate("performance.getEntriesByType('navigation').length") == 1  # still one load

        # an alert raised in another process (here: the test's) through the alerts service reaches the page
        monkeypatch.setattr(settings, "REDIS_URL", REDIS_DB_URL)
        await pubsub.reset()
        async with db.unit_of_work() as s:
            found = await alerts_service.evaluate_activity(s, tenant.id, clock.utcnow())
        assert found.created >= 1
        flash = watch.locator("#live-flash")
        await expect(flash).to_contain_text("New alert for Bea <b>Stuck</b>", timeout=10_000)
        assert await flash.get_attribute("aria-live") == "polite"
        stuck_row = watch.locator(f'tr[data-user-id="{stuck.id}"]')
        await expect(stuck_row.locator(".js-alerts a")).to_have_count(1)
        await expect(watch.locator("#live-alert-list li")).to_have_count(1)
        await watch.screenshot(path=str(SCREENSHOTS / "scribetree-live-desktop.png"), full_page=True)
        assert not problems, problems
    finally:
        await pubsub.reset()
        await teacher_ctx.close()
        await student_ctx.close()

    # a phone, and a browser without WebSockets: the fallback says so and reads live.json
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        await phone.add_init_script("delete window.WebSocket;")
        p = await _sign_in(phone, live_server, teacher.email)
        async with p.expect_response(lambda r: "/live.json" in r.url and r.status == 200):
            await p.goto(f"{live_server}/courses/{course.id}/live")
        await expect(p.locator("#live-mode")).to_have_text("Refreshing every 30 s")
        await expect(p.locator(f'tr[data-user-id="{writer.id}"] .js-words')).to_have_text("11")
        await expect(p.locator(f'tr[data-user-id="{stuck.id}"] .js-alerts a')).to_have_count(1)  # from the server
        assert await p.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
        widest = await p.evaluate(
            "Math.max(...[...document.querySelectorAll('#live *')].map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 390, f"something in the live view sticks out: {widest}px"
        await p.screenshot(path=str(SCREENSHOTS / "scribetree-live-phone.png"), full_page=True)
    finally:
        await phone.close()
    assert uuid.UUID(str(course.id))
