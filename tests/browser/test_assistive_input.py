"""Assistive input in the editor (Chromium): IME composition, autocorrect, drag and drop and dictation are stored as
inserts with ``via`` (typing, never pasting), and the process report does not read them as pasted text.

The IME composition goes through Chromium's own IME path (DevTools ``Input.imeSetComposition`` then
``Input.insertText``), so the page receives real compositionstart/update/end events; the other input types are
dispatched as the browser would (``InputEvent`` with that ``inputType`` after the value changed)."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.integrity import evidence
from scribetree.writing.models import Document, EditBatch
from tests.browser.test_editor import _setup, _sign_in, _watch

pytestmark = pytest.mark.browser

DISPATCH = """([text, type]) => {
  const area = document.getElementById('editor');
  const at = area.value.length;
  area.focus();
  area.setSelectionRange(at, at);
  area.dispatchEvent(new InputEvent('beforeinput', {inputType: type, data: text, bubbles: true, cancelable: true}));
  area.setRangeText(text, at, at, 'end');
  area.dispatchEvent(new InputEvent('input', {inputType: type, data: text, bubbles: true}));
}"""

SYNTHETIC_COMPOSITION = """(text) => {
  const area = document.getElementById('editor');
  const at = area.value.length;
  area.focus();
  area.setSelectionRange(at, at);
  area.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
  for (let i = 1; i <= text.length; i++) {
    area.setRangeText(text.slice(0, i), at, at + i - 1, 'end');
    area.dispatchEvent(new InputEvent('input', {inputType: 'insertCompositionText', data: text.slice(0, i),
                                                 isComposing: true, bubbles: true}));
  }
  area.dispatchEvent(new CompositionEvent('compositionend', {data: text}));
}"""


async def test_composition_and_assistive_inputs_are_typing(
    browser: Browser, server: str, session: AsyncSession
) -> None:
    email, aid = await _setup(session)
    context = await browser.new_context(viewport={"width": 1000, "height": 800})
    problems: list[str] = []
    page = await _sign_in(context, server, email)
    _watch(page, problems)
    await page.goto(f"{server}/assignments/{aid}/write")
    status = page.locator("#save-status")
    await expect(status).to_have_text("Saved")
    editor = page.get_by_label("Your writing")
    await editor.click()
    await page.keyboard.type("Hi ")
    # a real IME composition through Chromium: intermediate states, then one commit
    cdp = await context.new_cdp_session(page)
    for partial in ("t", "とう", "とうきょう"):
        await cdp.send(
            "Input.imeSetComposition", {"text": partial, "selectionStart": len(partial), "selectionEnd": len(partial)}
        )
    await cdp.send("Input.insertText", {"text": "東京"})
    await page.keyboard.type(" ")
    # the same with composition events dispatched by hand (browsers that omit isComposing on input)
    await page.evaluate(SYNTHETIC_COMPOSITION, "한국어")
    await page.evaluate(DISPATCH, [" recieve", "insertText"])
    await page.evaluate(DISPATCH, [" receive", "insertReplacementText"])
    await page.evaluate(DISPATCH, [" dropped words", "insertFromDrop"])
    await expect(status).to_have_text("Saved", timeout=8000)
    value = await editor.input_value()

    batches = (await session.execute(select(EditBatch).order_by(EditBatch.received_at, EditBatch.seq))).scalars()
    log = [op for b in batches for op in b.ops]
    doc = (await session.execute(select(Document).where(Document.assignment_id == aid))).scalar_one()
    assert doc.text == value
    await session.commit()
    inserts = [op for op in log if op["kind"] == "insert"]
    via = {op["text"]: op.get("via") for op in inserts}
    assert via["東京"] == "ime" and via["한국어"] == "ime"
    assert via[" receive"] == "autocorrect" and via[" dropped words"] == "drop"
    assert via["H"] is None and via[" recieve"] is None  # plain typing carries no via
    assert not [op for op in log if op["kind"] == "paste"]
    assert not [op for op in inserts if op["text"] in ("t", "とう", "とうきょう")]  # no intermediate states
    ev = evidence.compute([evidence.Batch(ops=log, revision=1)], value)
    assert ev.consistent and ev.composition[evidence.EXTERNAL] == 0
    assert ev.composition[evidence.ASSISTIVE] == sum(len(op["text"]) for op in inserts if op.get("via"))
    # Chromium has no dictation inputType of its own (voice typing arrives as composition or insertText); the
    # mapping for browsers that name it is checked on the page's own module
    mapped = await page.evaluate(
        """async () => {
      const m = await import(document.querySelector('script[src*="editor.js"]').src);
      return ['insertFromDictation', 'insertText', 'insertCompositionText', 'insertFromYank', ''].map(m.inputVia);
    }"""
    )
    assert mapped == ["dictation", None, "ime", "other", None]
    assert problems == []
    await context.close()
