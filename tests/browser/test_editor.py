"""The writing editor in Chromium against a real server: real key presses, a paste, offline and back, reload,
history with a diff, submit with the receipt; two tabs on one document; a 375 px phone without sideways scroll.

Every assertion about what was saved reads the server's document from the database, not the page."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.courses.models import CourseRole
from scribetree.writing import ops
from scribetree.writing.models import Document, DocumentVersion, EditBatch, Submission
from tests.browser.conftest import SCREENSHOTS
from tests.factories.courses import RUBRIC, create_assignment, create_course, create_course_member
from tests.factories.tenancy import PASSWORD, create_tenant

pytestmark = pytest.mark.browser
PARAGRAPH = "Trees keep time in rings; a dry year is a thin line, a wet one wide. 🌳 Ça pousse."


async def _setup(session: AsyncSession, **assignment: object) -> tuple[str, uuid.UUID]:
    tenant = await create_tenant(session, slug="northfield", name="Northfield University")
    course = await create_course(session, tenant, title="Composition 101")
    student = await create_course_member(session, course, tenant, CourseRole.student, display_name="Alan Turing")
    a = await create_assignment(session, course, title="Letter to a reader", rubric=RUBRIC, word_min=5,
                                instructions_md="Write a **letter** <script>alert(1)</script>.", **assignment)
    await session.commit()
    return student.email, a.id


async def _sign_in(context: BrowserContext, server: str, email: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{server}/t/northfield/signin")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/home")
    return page


def _watch(page: Page, problems: list[str]) -> None:
    def console(m: ConsoleMessage) -> None:
        if m.type == "error" and "ERR_INTERNET" not in m.text:  # offline requests fail on purpose
            problems.append(m.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))


async def _open_editor(
    browser: Browser, server: str, session: AsyncSession, *, clipboard: bool = False
) -> tuple[BrowserContext, Page, list[str], uuid.UUID]:
    """A student signed in, on their editor with everything saved; console errors collected in the list."""
    email, aid = await _setup(session)
    context = await browser.new_context()
    if clipboard:
        await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    problems: list[str] = []
    page = await _sign_in(context, server, email)
    _watch(page, problems)
    await page.goto(f"{server}/assignments/{aid}/write")
    await expect(page.locator("#save-status")).to_have_text("Saved")
    return context, page, problems, aid


async def _server_text(session: AsyncSession, assignment_id: uuid.UUID) -> str:
    session.expire_all()
    doc = (await session.execute(select(Document).where(Document.assignment_id == assignment_id))).scalar_one()
    text = doc.text
    await session.commit()
    return text


async def _fits(page: Page, name: str) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url
    await page.screenshot(path=str(SCREENSHOTS / f"scribetree-writing-{name}.png"), full_page=True)


async def test_write_paste_offline_reload_history_submit(browser: Browser, server: str, session: AsyncSession) -> None:
    email, aid = await _setup(session, ai_statement_required=True)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    problems: list[str] = []
    page = await _sign_in(context, server, email)
    _watch(page, problems)
    status = page.locator("#save-status")
    editor = page.get_by_label("Your writing")

    await page.goto(f"{server}/assignments/{aid}/write")
    await expect(status).to_have_text("Saved")
    assert "<script>alert(1)</script>" in await page.locator("#instructions-panel").inner_text()  # shown as text
    await editor.click()
    await page.keyboard.type("Dear reader, ")
    await expect(status).to_have_text("Saving…")
    await expect(status).to_have_text("Saved", timeout=8000)

    # a paste through the real clipboard (Ctrl+V): recorded as a paste op
    await page.evaluate("text => navigator.clipboard.writeText(text)", PARAGRAPH)
    await page.keyboard.press("Control+V")
    await page.keyboard.type(" Yours,")
    expected = "Dear reader, " + PARAGRAPH + " Yours,"
    assert await editor.input_value() == expected
    await expect(status).to_have_text("Saved", timeout=8000)
    assert await _server_text(session, aid) == expected
    # pasting a passage that is already in the text, then undoing it with the keyboard
    await page.evaluate("text => navigator.clipboard.writeText(text)", "Dear reader")
    await page.keyboard.press("Control+V")
    await page.keyboard.press("Control+Z")
    await expect(editor).to_have_value(expected)
    await expect(status).to_have_text("Saved", timeout=8000)

    # the event log: real key presses, the pastes (one seen in the document before), the undo, focus changes;
    # replayed from the empty text it gives exactly the server's text
    batches = (await session.execute(select(EditBatch).order_by(EditBatch.received_at, EditBatch.seq))).scalars()
    log = [op for b in batches for op in b.ops]
    await session.commit()
    kinds = [op["kind"] for op in log]
    assert kinds.count("insert") >= len("Dear reader, ") and "focus" in kinds and "undo" in kinds, kinds
    pastes = [op for op in log if op["kind"] == "paste"]
    assert [(p["text"], p["seen_in_doc"]) for p in pastes] == [(PARAGRAPH, False), ("Dear reader", True)]
    assert ops.apply("", ops.parse_ops(log)) == expected

    # a screen reader was not told "Saving…" and "Saved" at every batch: the announcing region is still empty
    announce = page.locator("#save-announce")
    assert await announce.text_content() == ""

    # offline: keep typing, the changes stay on this device; back online they are saved
    await context.set_offline(True)
    await page.keyboard.press("Backspace")
    await page.keyboard.type(" — A.")
    expected = expected[:-1] + " — A."
    await expect(status).to_have_text("Offline — changes kept on this device", timeout=8000)
    await expect(announce).to_have_text("Offline — changes kept on this device")
    assert await _server_text(session, aid) != expected
    await context.set_offline(False)
    await expect(status).to_have_text("Saved", timeout=8000)
    await expect(announce).to_have_text("All changes saved.")
    assert await _server_text(session, aid) == expected

    # reload: the same text, equal to the server's
    await page.reload()
    await expect(status).to_have_text("Saved")
    assert await editor.input_value() == expected == await _server_text(session, aid)
    words = int(await page.locator("#word-count [data-words]").inner_text())
    session.expire_all()
    doc = (await session.execute(select(Document).where(Document.assignment_id == aid))).scalar_one()
    assert words == doc.word_count > 10  # the live count follows the server's rules
    await session.commit()

    # unsaved changes survive a reload made before they were sent
    await editor.click()
    await page.keyboard.press("End")
    await page.keyboard.type(" PS.")
    await page.reload()
    expected += " PS."
    await expect(editor).to_have_value(expected)
    await expect(status).to_have_text("Saved", timeout=8000)
    assert await _server_text(session, aid) == expected

    # history: versions and a word diff
    await page.get_by_role("link", name="History").click()
    await page.get_by_role("heading", name="Versions", exact=True).wait_for()
    assert await page.locator(".versions-table tbody tr").count() >= 1
    await page.get_by_label("Checkpoint name").fill("Before submitting")
    await page.get_by_role("button", name="Save a checkpoint").click()
    await page.get_by_text("Checkpoint “Before submitting” saved.").wait_for()
    await page.get_by_label("From").select_option(index=await page.locator("#compare-from option").count() - 1)
    await page.get_by_role("button", name="Show the differences").click()
    await expect(page.locator("#diff .diff__text ins").first).to_contain_text("Dear reader")
    await page.set_viewport_size({"width": 375, "height": 740})
    await _fits(page, "history-phone")
    await page.set_viewport_size({"width": 1200, "height": 900})
    await page.get_by_role("link", name="Back to your writing").click()
    await expect(status).to_have_text("Saved")

    # submit: a keyboard-accessible dialog with the AI-use statement, then read-only with the receipt
    await page.get_by_role("button", name="Submit…").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="Submit…").click()
    await page.get_by_label("AI-use statement").fill("I used no AI tools.")
    await page.get_by_role("button", name="Submit now").click()
    await page.get_by_text("Submitted (attempt 1).").wait_for()
    assert await page.evaluate("Object.keys(localStorage).length") == 0  # nothing left behind
    sub = (await session.execute(select(Submission))).scalar_one()
    await session.commit()
    receipt = page.locator("#receipt")
    await expect(receipt).to_contain_text(str(sub.id))
    await expect(receipt).to_contain_text(sub.content_hash)
    await expect(status).to_have_text("Submitted — read-only")
    await expect(page.locator("#editor-notice")).to_be_hidden()  # nothing was left unsaved
    assert await editor.get_attribute("readonly") is not None
    await receipt.screenshot(path=str(SCREENSHOTS / "scribetree-writing-receipt.png"))
    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download the receipt").click()
    assert (await download.value).suggested_filename == f"submission-receipt-{sub.id}.json"
    await page.set_viewport_size({"width": 375, "height": 740})
    await _fits(page, "submitted-phone")
    await context.close()
    assert not problems, problems


async def test_two_tabs_end_consistent(browser: Browser, server: str, session: AsyncSession) -> None:
    email, aid = await _setup(session)
    context = await browser.new_context(viewport={"width": 375, "height": 740}, has_touch=True)
    problems: list[str] = []
    first = await _sign_in(context, server, email)
    second = await context.new_page()
    for page in (first, second):
        _watch(page, problems)
        await page.goto(f"{server}/assignments/{aid}/write")
        await expect(page.locator("#save-status")).to_have_text("Saved")
    await _fits(first, "editor-phone")

    async def type_in(page: Page, text: str) -> None:
        await page.bring_to_front()
        await page.get_by_label("Your writing").click()
        await page.keyboard.press("Control+End")
        await page.keyboard.type(text)

    await type_in(first, "Alpha one. ")
    await type_in(second, "Beta two. ")  # based on revision 0: refused as stale, rebased, saved
    await type_in(first, "Gamma three. ")
    for page in (first, second):
        await expect(page.locator("#save-status")).to_have_text("Saved", timeout=10000)
    final = await _server_text(session, aid)
    for piece in ("Alpha one. ", "Beta two. ", "Gamma three. "):
        assert piece in final, final
    for page in (first, second):
        await page.reload()
        await expect(page.locator("#save-status")).to_have_text("Saved")
        assert await page.get_by_label("Your writing").input_value() == final
    assert await _server_text(session, aid) == final
    await context.close()
    stale = [p for p in problems if "409 (Conflict)" in p]  # the browser logs the refused stale batch
    assert stale, "both tabs started on revision 0, so one batch must have been refused as stale and rebased"
    assert not [p for p in problems if p not in stale], problems


async def test_overlapping_edits_in_two_tabs_keep_the_local_text_to_copy(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    email, aid = await _setup(session)
    context = await browser.new_context(viewport={"width": 1000, "height": 800})
    problems: list[str] = []
    first = await _sign_in(context, server, email)
    second = await context.new_page()
    for page in (first, second):
        _watch(page, problems)
        await page.goto(f"{server}/assignments/{aid}/write")
        await expect(page.locator("#save-status")).to_have_text("Saved")
    await first.get_by_label("Your writing").click()
    await first.keyboard.type("The quick brown fox.")
    await expect(first.locator("#save-status")).to_have_text("Saved", timeout=8000)
    await second.reload()  # both tabs now on the same revision
    await expect(second.get_by_label("Your writing")).to_have_value("The quick brown fox.")

    # both change the same words before either is saved: one is saved, the other cannot be combined
    await first.bring_to_front()
    await first.get_by_label("Your writing").click()
    await first.keyboard.press("Control+A")
    await first.keyboard.type("Replaced.")
    await second.bring_to_front()
    await second.get_by_label("Your writing").click()
    await second.keyboard.press("Control+Home")
    for _ in range(4):
        await second.keyboard.press("Delete")
    for page in (first, second):
        await expect(page.locator("#save-status")).to_have_text("Saved", timeout=10000)
    final = await _server_text(session, aid)
    assert final in ("Replaced.", "quick brown fox."), final
    loser = second if final == "Replaced." else first
    lost_text = "quick brown fox." if loser is second else "Replaced."
    notice = loser.locator("#editor-notice")
    await expect(notice).to_contain_text("could not be combined")
    await expect(notice.get_by_label("Your version (not saved)")).to_have_value(lost_text)
    await expect(loser.get_by_label("Your writing")).to_have_value(final)
    # the text to copy survives a reload until it is dismissed
    await loser.reload()
    await expect(loser.get_by_label("Your version (not saved)")).to_have_value(lost_text)
    await loser.get_by_role("button", name="Dismiss").click()
    await loser.reload()
    await expect(loser.locator("#save-status")).to_have_text("Saved")
    assert await loser.locator("#editor-notice").is_hidden()
    assert await _server_text(session, aid) == final
    await context.close()
    assert not [p for p in problems if "409 (Conflict)" not in p], problems


async def test_emoji_backspace_and_ime_composition(browser: Browser, server: str, session: AsyncSession) -> None:
    """Code points, not UTF-16 units: an emoji is one position and one Backspace removes it whole; IME input is
    recorded once, when the composition ends. Submitting while offline is refused in the dialog."""
    email, aid = await _setup(session)
    context = await browser.new_context()
    problems: list[str] = []
    page = await _sign_in(context, server, email)
    _watch(page, problems)
    await page.goto(f"{server}/assignments/{aid}/write")
    status = page.locator("#save-status")
    await expect(status).to_have_text("Saved")
    editor = page.get_by_label("Your writing")
    await editor.click()
    await page.keyboard.type("a😀b👩‍🔬c")
    await page.keyboard.press("Home")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")  # after "a😀"
    await page.keyboard.press("Backspace")  # removes 😀 (two UTF-16 units, one code point)
    await page.keyboard.type("é")
    cdp = await context.new_cdp_session(page)
    await page.keyboard.press("End")
    for partial in ("に", "にほ", "にほん"):
        await cdp.send("Input.imeSetComposition", {"text": partial, "selectionStart": len(partial),
                                                   "selectionEnd": len(partial)})
    await expect(editor).to_have_value("aéb👩‍🔬cにほん")  # composing: shown, not recorded yet
    await cdp.send("Input.insertText", {"text": "日本"})
    expected = "aéb👩‍🔬c日本"
    await expect(editor).to_have_value(expected)
    await expect(status).to_have_text("Saved", timeout=8000)
    assert await _server_text(session, aid) == expected
    batches = (await session.execute(select(EditBatch).order_by(EditBatch.received_at, EditBatch.seq))).scalars()
    log = [op for b in batches for op in b.ops if op["kind"] != "focus"]
    await session.commit()
    assert {"kind": "delete", "pos": 1, "len": 1} in [{k: op.get(k) for k in ("kind", "pos", "len")} for op in log]
    assert [op["text"] for op in log if op.get("text") and op["text"][0] in "に日"] == ["日本"], log
    assert ops.apply("", ops.parse_ops(log)) == expected

    # submitting while offline: refused in the dialog, nothing submitted; back online it goes through
    await context.set_offline(True)
    await page.keyboard.type("!")
    await page.get_by_role("button", name="Submit…").click()
    await page.get_by_role("button", name="Submit now").click()
    await expect(page.get_by_role("dialog")).to_contain_text("not saved yet, so nothing was submitted")
    assert (await session.execute(select(Submission))).first() is None
    await session.commit()
    await context.set_offline(False)
    await page.get_by_role("button", name="Submit now").click()
    await page.get_by_text("Submitted (attempt 1).").wait_for()
    sub = (await session.execute(select(Submission))).scalar_one()
    await session.commit()
    assert sub.content_hash == ops.content_hash(expected + "!")
    await context.close()
    assert not problems, problems


async def test_a_tab_left_open_after_submitting_elsewhere_turns_read_only(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    email, aid = await _setup(session)
    context = await browser.new_context()
    problems: list[str] = []
    first = await _sign_in(context, server, email)
    second = await context.new_page()
    for page in (first, second):
        _watch(page, problems)
        await page.goto(f"{server}/assignments/{aid}/write")
        await expect(page.locator("#save-status")).to_have_text("Saved")
    await first.get_by_label("Your writing").click()
    await first.keyboard.type("Finished essay.")
    await first.get_by_role("button", name="Submit…").click()
    await first.get_by_role("button", name="Submit now").click()
    await first.get_by_text("Submitted (attempt 1).").wait_for()

    await second.get_by_label("Your writing").click()  # it has not looked at the server since it opened
    await second.keyboard.type("Late thought.")
    await expect(second.locator("#save-status")).to_have_text("Submitted — read-only", timeout=8000)
    assert await second.get_by_label("Your writing").get_attribute("readonly") is not None
    await expect(second.get_by_label("Your version (not saved)")).to_have_value("Late thought.")
    assert await _server_text(session, aid) == "Finished essay."
    await context.close()
    assert not [p for p in problems if "409 (Conflict)" not in p], problems


async def test_a_paste_larger_than_a_batch_is_saved_in_pieces(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    context, page, problems, aid = await _open_editor(browser, server, session, clipboard=True)
    big = ("Forty-two 😀 words and more. " * 11_000)[:300_000]  # ~330,000 bytes: more than one batch may carry
    await page.get_by_label("Your writing").click()
    await page.evaluate("text => navigator.clipboard.writeText(text)", big)
    await page.keyboard.press("Control+V")
    await expect(page.locator("#save-status")).to_have_text("Saved", timeout=15000)
    assert await _server_text(session, aid) == big
    batches = (await session.execute(select(EditBatch).where(EditBatch.revision > 0))).scalars().all()
    await session.commit()
    assert len(batches) >= 2 and all(op["kind"] == "paste" for b in batches for op in b.ops if op["kind"] != "focus")
    await context.close()
    assert not problems, problems


async def test_moving_own_text_by_cut_and_paste_is_not_a_paste_from_outside(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    """A cut removes the text before the paste: the editor once checked only the text left in the box and sent
    ``seen_in_doc: false``, so a student moving their own paragraph raised the integrity report's outside-paste
    evidence and the educator's large-paste alert. Text cut from the document is remembered in the tab, across a
    reload (and nowhere once the tab is closed); text from elsewhere is still a paste from outside."""
    context, page, problems, _ = await _open_editor(browser, server, session, clipboard=True)
    status = page.locator("#save-status")
    editor = page.get_by_label("Your writing")
    await editor.click()
    await page.keyboard.type("First line. ")
    await page.evaluate("text => navigator.clipboard.writeText(text)", PARAGRAPH)
    await page.keyboard.press("Control+V")  # from outside
    # select the pasted paragraph with the keyboard, cut it, and paste it back in front of the first line
    for _ in range(len(PARAGRAPH)):  # one press per character the reader sees (the emoji is one)
        await page.keyboard.press("Shift+ArrowLeft")
    selected = "e => e.value.slice(e.selectionStart, e.selectionEnd)"
    assert await editor.evaluate(selected) == PARAGRAPH
    await page.keyboard.press("Control+X")
    await expect(editor).to_have_value("First line. ")
    await page.keyboard.press("Control+Home")
    await page.keyboard.press("Control+V")
    await expect(editor).to_have_value(PARAGRAPH + "First line. ")
    await expect(status).to_have_text("Saved", timeout=8000)
    # cut again, reload, paste: still the student's own text
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Control+X")
    await expect(status).to_have_text("Saved", timeout=8000)
    await page.wait_for_timeout(1200)  # the remembered text is written to the tab's storage within a second
    await page.reload()
    await expect(status).to_have_text("Saved")
    await page.get_by_label("Your writing").click()
    await page.keyboard.press("Control+V")
    await expect(page.get_by_label("Your writing")).to_have_value(PARAGRAPH + "First line. ")
    await expect(status).to_have_text("Saved", timeout=8000)

    batches = (await session.execute(select(EditBatch).order_by(EditBatch.received_at, EditBatch.seq))).scalars()
    pastes = [(op["text"], op["seen_in_doc"]) for b in batches for op in b.ops if op["kind"] == "paste"]
    await session.commit()
    assert pastes == [(PARAGRAPH, False), (PARAGRAPH, True), (PARAGRAPH + "First line. ", True)], pastes
    assert await page.evaluate("Object.keys(localStorage).length") == 0  # nothing of it outlives the tab
    await context.close()
    assert not problems, problems


async def test_history_right_after_typing_has_the_last_words_in_its_checkpoint(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    """The History link used to leave at once: words typed in the last two seconds were kept on the device but not
    yet sent, so a checkpoint made on the history page missed them. The link now sends them first."""
    context, page, problems, _ = await _open_editor(browser, server, session)
    await page.get_by_label("Your writing").click()
    await page.keyboard.type("Last words before the checkpoint.")
    assert await page.evaluate("window.scribetreeEditor.pending")  # not sent yet
    await page.get_by_role("link", name="History").click()
    await page.get_by_role("heading", name="Versions", exact=True).wait_for()
    await page.get_by_label("Checkpoint name").fill("Right away")
    await page.get_by_role("button", name="Save a checkpoint").click()
    await page.get_by_text("Checkpoint “Right away” saved.").wait_for()
    session.expire_all()
    named = (
        await session.execute(select(DocumentVersion.text).where(DocumentVersion.name == "Right away"))
    ).scalar_one()
    await session.commit()
    assert named == "Last words before the checkpoint."
    await context.close()
    assert not problems, problems
