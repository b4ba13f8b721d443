"""Replay and the event-log export on a long history (issue 6): a 5,000-word essay written in about 30,000 events.

    .venv/bin/python -m bench.replay                     # SQLite in a temporary directory, one batch per event
    .venv/bin/python -m bench.replay --db postgresql     # a scratch database on the local PostgreSQL
    .venv/bin/python -m bench.replay --quick             # a 500-word essay, 3 repeats

The history is ``integrity.simulate.reviser`` stored as ``--per-batch`` ops per batch (default 1: the worst case
for replay, one row per event; the editor sends ~20), each batch with the real content hash of its text, seeded
with ``bench.integrity``'s seeding. Measured ``--repeat`` times, through the services as the API calls them:

- ``manifest``: the timeline (one scan of the whole log, a page of 1,000 batches at a time);
- ``state``: the text at the middle revision (nearest snapshot + batches: here revision 0 is the only snapshot,
  the worst case);
- ``page``: one window of 500 batches, as the player fetches it;
- ``export``: the whole hash-chained export written to a sink (what the endpoint spools);
- ``verify``: ``verify_lines`` over that export (chain, replay of every op, content hashes, HMAC).

Prints one JSON object with medians and p95 (wall clock), the median CPU time of this process (the database
server's work on PostgreSQL is not in it) and the load average at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path
from typing import Any

from bench.alerts import emit, environment, scratch_database
from bench.integrity import _seed, percentile


class _Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)


async def _prepare(seeded: dict[str, Any], log: list[dict[str, Any]], per_batch: int) -> Any:
    """Real content hashes on the seeded batches, the writer enrolled, and the writer's context."""
    from sqlalchemy import bindparam, update

    from scribetree.core import db
    from scribetree.courses.models import Assignment, CourseMember, CourseRole
    from scribetree.identity.models import User
    from scribetree.tenancy.context import AuthContext
    from scribetree.tenancy.models import Role
    from scribetree.writing import ops
    from scribetree.writing.models import Document, EditBatch

    async with db.unit_of_work() as s:
        doc = await s.get(Document, seeded["document_id"])
        assert doc is not None
        text, rows = "", []
        for k in range(0, len(log), per_batch):
            text = ops.apply(text, ops.parse_ops(log[k : k + per_batch]))
            rows.append({"r": k // per_batch + 1, "h": ops.content_hash(text)})
        stmt = (
            update(EditBatch)
            .where(EditBatch.document_id == doc.id, EditBatch.revision == bindparam("r"))
            .values(content_hash=bindparam("h"))
        )
        conn = await s.connection()
        for i in range(0, len(rows), 2000):
            await conn.execute(stmt, rows[i : i + 2000])
        a = await s.get(Assignment, seeded["assignment_id"])
        user = await s.get(User, doc.owner_user_id)
        assert a is not None and user is not None
        s.add(CourseMember(tenant_id=doc.tenant_id, course_id=a.course_id, user_id=user.id, role=CourseRole.student))
        ctx = AuthContext(
            user_id=user.id,
            email=user.email,
            display_name=user.display_name,
            tenant_id=doc.tenant_id,
            tenant_slug="bench-integrity",
            role=Role.student,
            platform_role=None,
            via="session",
        )
    return ctx


def _summary(name: str, runs: list[float]) -> dict[str, float]:
    return {f"{name}_median_s": round(statistics.median(runs), 4), f"{name}_p95_s": round(percentile(runs, 95), 4)}


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from scribetree.core import db
    from scribetree.integrity import simulate
    from scribetree.integrity.export import export, signing_key, verify_lines
    from scribetree.integrity.replay import replay

    # focus events dropped: the shared seeding gives every batch a new revision, as only text changes get
    log = [o for o in simulate.reviser(random.Random(args.seed), args.words) if o.get("kind") != "focus"]
    final = simulate.final_text(log)
    db.use_engines(db.create_engines(url))
    times: dict[str, list[float]] = {k: [] for k in ("manifest", "state", "page", "export", "verify")}
    cpu: dict[str, list[float]] = {k: [] for k in times}

    def lap(name: str, t0: float, c0: float) -> None:
        times[name].append(time.perf_counter() - t0)
        cpu[name].append(time.process_time() - c0)

    try:
        seeded = await _seed(log, final, args.per_batch)
        ctx = await _prepare(seeded, log, args.per_batch)
        doc_id, batches = seeded["document_id"], seeded["batches"]
        exported_lines = 0
        for _ in range(args.repeat):
            async with db.unit_of_work(write=False) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                m = await replay.manifest(s, ctx, doc_id)
                lap("manifest", t0, c0)
                assert m.batch_count == batches
                t0, c0 = time.perf_counter(), time.process_time()
                st = await replay.state(s, ctx, doc_id, batches // 2)
                lap("state", t0, c0)
                assert st.revision == batches // 2
                t0, c0 = time.perf_counter(), time.process_time()
                page = await replay.batches(s, ctx, doc_id, batches // 2, 500)
                lap("page", t0, c0)
                assert len(page.items) == min(500, batches - batches // 2)
                sink = _Sink()
                t0, c0 = time.perf_counter(), time.process_time()
                await export.write(s, ctx, doc_id, sink)
                lap("export", t0, c0)
            t0, c0 = time.perf_counter(), time.process_time()
            verdict = verify_lines(iter(sink.lines), signing_key())
            lap("verify", t0, c0)
            assert verdict.ok and verdict.signature == "valid", verdict.message()
            exported_lines = len(sink.lines)
            export_bytes = sum(len(x.encode()) for x in sink.lines)
    finally:
        await db.dispose_engines()
    out: dict[str, Any] = {
        "db": args.db,
        "events": len(log),
        "batches": batches,
        "final_chars": len(final),
        "export_lines": exported_lines,
        "export_bytes": export_bytes,
        "repeat": args.repeat,
    }
    for name, runs in times.items():
        out |= _summary(name, runs)
        out[f"{name}_cpu_median_s"] = round(statistics.median(cpu[name]), 4)
    out |= environment()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--words", type=int, default=4300, help="words drafted (the final text is ~5,000 words)")
    parser.add_argument("--per-batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a 500-word essay, 3 repeats")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.words, args.repeat = 500, 3
    with scratch_database(args.db, "replay") as url:
        result = asyncio.run(_run(args, url))
    emit(result, args.out)


if __name__ == "__main__":
    main()
