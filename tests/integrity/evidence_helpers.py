"""Writing a generated history through the real batch API and submitting it (integrity report tests)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer

PER_BATCH = 400  # the editor's MAX_OPS_PER_BATCH


async def write_history(c: httpx.AsyncClient, assignment_id: Any, ops: list[dict[str, Any]]) -> Writer:
    """Send ``ops`` in batches as the editor would (cutting only between ops), returning the writer."""
    w = Writer(c, await open_doc(c, assignment_id))
    for i in range(0, len(ops), PER_BATCH):
        await w.send(ops[i : i + PER_BATCH])
    return w


async def submit(c: httpx.AsyncClient, w: Writer) -> str:
    r = await c.post(f"/api/v1/documents/{w.id}/submit", json={"revision": w.revision})
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


async def write_and_submit(c: httpx.AsyncClient, assignment_id: Any, ops: list[dict[str, Any]]) -> tuple[Writer, str]:
    w = await write_history(c, assignment_id, ops)
    return w, await submit(c, w)
