"""The printable report: a real PDF that names the student, shows the flags section and the pasted passages
highlighted; student text is escaped in the HTML; only the author and the course's staff get it (audited)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core.audit import AuditEvent
from scribetree.integrity.pdf import FlagItem, ReportData, Span, highlighted, report
from tests.integrity.replay_helpers import op
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer

PASTED = "A borrowed sentence <script>alert(1)</script> & more." + " Borrowed words keep on coming here." * 40


async def submitted(c: httpx.AsyncClient, klass: Klass) -> tuple[Writer, str]:
    w = Writer(c, await open_doc(c, klass.assignment.id))
    await w.send([op("insert", 0, "My own opening <b>bold</b> claim. ")])
    await w.send([op("paste", len(w.text), PASTED)])
    await w.send([op("insert", len(w.text), " Then my conclusion, 東京 😀.")])
    await w.send([{"kind": "focus", "t": 1, "state": "lost"}])
    r = await c.post(
        f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision, "ai_statement": "None <i>used</i>."}
    )
    assert r.status_code in (200, 201), r.text
    return w, r.json()["id"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # pypdf spells some two-byte font encodings with NULs between the characters
    return "\n".join(page.extract_text() for page in reader.pages).replace("\x00", "")


class TestReport:
    async def test_pdf_parses_and_holds_the_report(self, klass: Klass, client_for: ClientFor) -> None:
        c = await client_for(klass.student, klass.tenant)
        _, sub_id = await submitted(c, klass)
        flags = (await c.get(f"/api/v1/submissions/{sub_id}/integrity")).json()["flags"]
        assert flags, "the crafted history (most of the text pasted) should raise a flag"
        answer = "These were my notes <em>from class</em>."
        r = await c.post(
            f"/api/v1/submissions/{sub_id}/integrity/responses", json={"flag_code": flags[0]["code"], "text": answer}
        )
        assert r.status_code == 201, r.text
        r = await c.get(f"/api/v1/submissions/{sub_id}/report")
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
        text = " ".join(pdf_text(r.content).split())
        assert "Ada Student" in text and "Writing process report" in text
        assert "Flags" in text and "Pastes 1" in text
        for f in flags:
            assert " ".join(f["title"].split()) in text
        assert "response: These were my notes <em>from class</em>." in text
        squeezed = "".join(text.split())
        assert "<script>alert(1)</script>" in squeezed and "Aborrowedsentence" in squeezed  # as text, not markup
        html = (await c.get(f"/api/v1/submissions/{sub_id}/report", params={"format": "html"})).text
        mark = (
            '<mark class="paste" title="pasted">A borrowed sentence &lt;script&gt;alert(1)&lt;/script&gt; &amp; more.'
        )
        assert mark in html and "coming here.</mark>" in html
        assert "<script>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "None &lt;i&gt;used&lt;/i&gt;." in html
        assert "my notes &lt;em&gt;from class&lt;/em&gt;." in html

    def test_flags_and_responses_render(self) -> None:
        data = ReportData(
            assignment_title="Essay",
            student_name="Ada <Student>",
            submission_id=uuid.uuid4(),
            attempt=1,
            submitted_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
            late=False,
            revision=3,
            content_hash="0" * 64,
            word_count=3,
            ai_statement=None,
            text="one two three",
            pasted=[Span(4, 7)],
            figures=[("Pastes", "1")],
            flags=[
                FlagItem("Large paste", "One paste made 40% of the text.", ["revision 2"], "typing it", ["I moved it."])
            ],
        )
        html = report.html(data)
        assert "Ada &lt;Student&gt;" in html and "I moved it." in html and "What would clear it: typing it" in html
        assert 'one <mark class="paste" title="pasted">two</mark> three' in html

    @pytest.mark.parametrize(
        ("text", "spans", "expected"),
        [
            ("a\rb<", [], "a&#13;b&lt;"),
            (
                "abc",
                [Span(1, 2, moved=True)],
                'a<mark class="paste" title="moved within the document">b</mark>c',
            ),
            ("abc", [Span(2, 9)], "abc"),  # out of range: not drawn
        ],
    )
    def test_highlighting(self, text: str, spans: list[Span], expected: str) -> None:
        assert str(highlighted(text, spans)) == expected

    async def test_who_gets_it(self, klass: Klass, client_for: ClientFor, session: AsyncSession) -> None:
        c = await client_for(klass.student, klass.tenant)
        classmate = await client_for(klass.classmate, klass.tenant)
        staff = await client_for(klass.instructor, klass.tenant)
        _, sub_id = await submitted(c, klass)
        assert (await classmate.get(f"/api/v1/submissions/{sub_id}/report")).status_code == 404
        assert (await c.get(f"/api/v1/submissions/{uuid.uuid4()}/report")).status_code == 404
        r = await staff.get(f"/api/v1/submissions/{sub_id}/report", params={"format": "html"})
        assert r.status_code == 200 and "Ada Student" in r.text
        assert (await staff.get(f"/api/v1/submissions/{sub_id}/report", params={"format": "doc"})).status_code == 422
        await session.rollback()
        whats = (
            await session.execute(select(AuditEvent.details).where(AuditEvent.action == "document.viewed"))
        ).scalars()
        assert [d["what"] for d in whats] == []  # the integrity report audits the view (integrity.report_viewed)
        viewed = (
            await session.execute(
                select(AuditEvent.actor_user_id).where(AuditEvent.action == "integrity.report_viewed")
            )
        ).scalars()
        assert klass.instructor.id in set(viewed)
