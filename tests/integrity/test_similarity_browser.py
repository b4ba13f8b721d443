"""The similarity page in Chromium on a 390 px phone: the instructor opens it while the submission is still being
compared (progress shown), the page updates itself once the index job has run, the passages stack, nothing scrolls
sideways, the page has its landmarks and links reachable by keyboard, no console or CSP errors; the student sees
their own side only. Screenshots go to /tmp (``SCRIBETREE_SCREENSHOTS`` to change)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.integrity.similarity import index_submission
from tests.browser.conftest import SCREENSHOTS, browser, server  # noqa: F401 (fixtures)
from tests.factories.tenancy import PASSWORD
from tests.integrity.test_similarity import PARAPHRASE, SHARED_1, SOURCE, indexed, submit
from tests.writing.conftest import Klass

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 2, "has_touch": True}


async def _sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-similarity-{name}.png"), full_page=True)


async def test_similarity_page_on_a_phone(
    browser: Browser,  # noqa: F811
    server: str,  # noqa: F811
    session: AsyncSession,
    klass: Klass,
) -> None:
    first = await submit(session, klass.assignment, klass.student, SOURCE)
    await indexed(session, first)
    second = await submit(session, klass.assignment, klass.classmate, PARAPHRASE)
    await session.commit()  # submitted, not compared yet

    problems: list[str] = []
    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await _sign_in(page, server, klass.instructor.email)
    await page.goto(f"{server}/submissions/{second.id}/similarity")
    await page.locator("#similarity-pending progress").wait_for()
    await _fits(page, "pending")

    await index_submission(session, klass.tenant.id, second.id)  # the job runs; the page notices by itself
    await session.commit()
    passage = page.locator(".similarity-passage").first
    await passage.wait_for(timeout=20_000)
    assert await page.locator("#similarity-pending").count() == 0
    assert await page.locator("main").count() == 1 and await page.locator("h1").count() == 1
    marks = passage.locator("mark")
    assert await marks.count() == 2 and (await marks.nth(0).text_content()) == SHARED_1.rstrip(".")
    here, there = passage.locator("figure").nth(0), passage.locator("figure").nth(1)
    a, b = await here.bounding_box(), await there.bounding_box()
    assert a is not None and b is not None and b["y"] >= a["y"] + a["height"] - 1, "stacked on a phone"
    await _fits(page, "staff")
    focused = []
    for _ in range(40):  # the keyboard reaches the link to the other submission's similarity
        await page.keyboard.press("Tab")
        focused.append(await page.evaluate("document.activeElement && document.activeElement.textContent"))
    assert "Their similarity" in focused
    await context.close()

    context = await browser.new_context(**PHONE)
    page = await context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await _sign_in(page, server, klass.classmate.email)
    await page.goto(f"{server}/submissions/{second.id}/similarity")
    await page.get_by_text("Another student's text is not shown.").first.wait_for()
    assert "Ada Student" not in await page.content()
    await _fits(page, "student")
    await context.close()
    assert not problems, problems
