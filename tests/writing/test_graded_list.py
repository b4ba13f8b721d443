"""The staff submissions list says "graded" once the latest submission's grade is returned (not for a draft
grade, and not any more after a resubmission)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories.writing import ins
from tests.writing.conftest import ClientFor, Klass
from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer


async def rows(staff: httpx.AsyncClient, klass: Klass) -> dict[str, dict[str, Any]]:
    r = await staff.get(f"/api/v1/assignments/{klass.assignment.id}/submissions")
    assert r.status_code == 200, r.text
    return {row["name"]: row for row in r.json()}


async def test_graded_follows_the_returned_grade_of_the_latest_submission(klass: Klass, client_for: ClientFor) -> None:
    student = await client_for(klass.student, klass.tenant)
    w = Writer(student, await open_doc(student, klass.assignment.id))
    await w.send([ins(0, "An essay of some words")])
    r = await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    teacher = await client_for(klass.instructor, klass.tenant)
    assert (await rows(teacher, klass))["Ada Student"]["status"] == "submitted"

    r = await teacher.put(f"/api/v1/submissions/{sub_id}/grade", json={"scores": {}, "feedback": "Good start"})
    assert r.status_code == 200, r.text
    assert (await rows(teacher, klass))["Ada Student"]["status"] == "submitted"  # a draft grade is not "graded"

    assert (await teacher.post(f"/api/v1/submissions/{sub_id}/grade/return")).status_code == 200
    listed = await rows(teacher, klass)
    assert listed["Ada Student"]["status"] == "graded"
    assert listed["Bea Classmate"]["status"] == "not_started"

    # Reopened and submitted again: the new submission has no grade yet.
    assert (await teacher.post(f"/api/v1/documents/{w.id}/reopen")).status_code == 200
    r = await student.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
    assert r.status_code == 201, r.text
    assert (await rows(teacher, klass))["Ada Student"]["status"] == "submitted"
