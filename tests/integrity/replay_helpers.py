"""Crafted writing histories for the replay, export and report tests (written through the real batch API)."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests.writing.test_documents_api import open_doc
from tests.writing.test_history import Writer, random_ops

T0 = 1_764_000_000_000


def op(kind: str, pos: int, text: str = "", n: int = 0, t: int = T0) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "t": t, "pos": pos}
    if text:
        out["text"] = text
    if n:
        out["len"] = n
    if kind == "paste":
        out["seen_in_doc"] = False
    return out


async def crafted(c: httpx.AsyncClient, assignment_id: Any) -> Writer:
    """Emoji (surrogate pairs in JS), a ZWJ sequence, combining marks, RTL and CJK text, a paste typed into, a
    focus-only batch, a checkpoint and a restore in the middle, then more writing after the restore."""
    w = Writer(c, await open_doc(c, assignment_id))
    await w.send([op("insert", 0, "Hello 😀 world")])
    await w.send([op("insert", 8, "👩\u200d💻 e\u0301 ")])
    await w.send([op("paste", len(w.text), " שלום עולם 東京タワー <b>&amp;</b>")])
    await w.send([{"kind": "focus", "t": T0, "state": "lost"}, {"kind": "focus", "t": T0, "state": "gained"}])
    await w.send([op("delete", 2, n=3), op("insert", 0, "«"), op("undo", 1, "He", 0)])
    first = (await c.post(f"/api/v1/documents/{w.id}/versions", json={"name": "before"})).json()
    await w.send([op("cut", 0, n=4), op("redo", 3, "x", 1)])
    await w.send([op("insert", len(w.text), "\r\n한국어 😀😀")])
    r = await c.post(f"/api/v1/documents/{w.id}/versions/{first['id']}/restore")
    assert r.status_code == 200, r.text
    await w.reload()
    await w.send([op("insert", 1, "ñ 🇫🇷 ")])
    await w.send([op("paste", 0, "Pasted: 東京 😀 ")])
    rng = random.Random(6)
    for _ in range(12):
        await w.send(random_ops(rng, w.text))
    return w
