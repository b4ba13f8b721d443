"""Process evidence pages over HTTP (a browser without JavaScript): the report with its highlighted document,
flags, the student's response form and the educator's outcome form; the assignment table, sortable; student
text shown as text, never as HTML."""

from __future__ import annotations

import re

from tests.integrity.evidence_helpers import write_and_submit
from tests.web.conftest import csrf_in
from tests.writing.conftest import ClientFor, Klass

T0 = 1_764_000_000_000
EVIL = "<script>alert('x')</script>"


def history() -> list[dict]:
    typed = f"My own start {EVIL} and more. "
    ops: list[dict] = [{"kind": "insert", "t": T0 + i * 200, "pos": i, "text": c} for i, c in enumerate(typed)]
    source = "A pasted passage from somewhere else entirely, long enough to matter. " * 15
    ops.append({"kind": "paste", "t": T0 + 60_000, "pos": len(typed), "text": source, "seen_in_doc": False})
    return ops


class TestReportPage:
    async def test_student_reads_and_responds_staff_records_outcome(self, klass: Klass, client_for: ClientFor) -> None:
        student = await client_for(klass.student, klass.tenant)
        w, sid = await write_and_submit(student, klass.assignment.id, history())
        url = f"/submissions/{sid}/integrity"
        r = await student.get(url)
        assert r.status_code == 200, r.text[:500]
        html = r.text
        assert EVIL not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
        assert re.search(r'<mark class="origin origin--pasted_external" id="paste-0"', html)
        assert 'href="#paste-0"' in html  # the flag links to its evidence
        assert "What would clear it" in html and "Compared with" not in html
        assert f'href="/documents/{w.id}/replay"' in html  # the replay slot
        assert 'id="respond"' in html and 'id="outcome"' not in html
        token = csrf_in(html)
        r = await student.post(
            f"{url}/responses", data={"csrf_token": token, "flag_code": "report", "text": f"Quoted {EVIL}"}
        )
        assert r.status_code == 303
        r = await student.post(f"{url}/responses", data={"csrf_token": token, "flag_code": "report", "text": ""})
        assert r.status_code == 303 and r.headers["location"].endswith("#respond")
        html = (await student.get(url)).text
        assert "Quoted &lt;script&gt;" in html

        staff = await client_for(klass.instructor, klass.tenant)
        html = (await staff.get(url)).text
        assert 'id="outcome"' in html and 'id="respond"' not in html and "Quoted &lt;script&gt;" in html
        token = csrf_in(html)
        r = await staff.post(f"{url}/outcomes", data={"csrf_token": token, "outcome": "discussed", "note": "Met."})
        assert r.status_code == 303
        r = await staff.post(f"{url}/outcomes", data={"csrf_token": token, "outcome": "bogus"})
        assert r.status_code == 303 and r.headers["location"].endswith("#outcome")
        assert "Discussed with the student" in (await staff.get(url)).text

        classmate = await client_for(klass.classmate, klass.tenant)
        assert (await classmate.get(url)).status_code == 404
        # the ways in: the student's receipt, the staff's submission list
        write_page = (await student.get(f"/assignments/{klass.assignment.id}/write")).text
        assert f'href="/submissions/{sid}/integrity"' in write_page
        listing = (await staff.get(f"/assignments/{klass.assignment.id}/submissions")).text
        assert f'href="/assignments/{klass.assignment.id}/integrity"' in listing


class TestAssignmentTable:
    async def test_staff_table_sorts_and_saves_the_setting(self, klass: Klass, client_for: ClientFor) -> None:
        student = await client_for(klass.student, klass.tenant)
        _, sid = await write_and_submit(student, klass.assignment.id, history())
        other = await client_for(klass.classmate, klass.tenant)
        await write_and_submit(other, klass.assignment.id, [{"kind": "insert", "t": T0, "pos": 0, "text": "Short."}])
        staff = await client_for(klass.instructor, klass.tenant)
        url = f"/assignments/{klass.assignment.id}/integrity"
        r = await staff.get(url)
        assert r.status_code == 200
        html = r.text
        assert html.index("Ada Student") < html.index("Bea Classmate")  # flagged first
        assert 'aria-sort="descending"' in html and f'href="/submissions/{sid}/integrity"' in html
        html = (await staff.get(url, params={"sort": "name", "order": "asc"})).text
        assert 'aria-sort="ascending"' in html and html.index("Ada Student") < html.index("Bea Classmate")
        html = (await staff.get(url, params={"sort": "name", "order": "desc"})).text
        assert html.index("Bea Classmate") < html.index("Ada Student")
        r = await staff.post(f"{url}/settings", data={"csrf_token": csrf_in(html), "before": "on"})
        assert r.status_code == 303
        assert 'name="before" checked' in (await staff.get(url)).text
        assert (await student.get(url)).status_code == 403
