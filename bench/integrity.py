"""Process evidence report generation (issue 6): a 5,000-word essay written in about 30,000 events.

    .venv/bin/python -m bench.integrity                    # SQLite in a temporary directory
    .venv/bin/python -m bench.integrity --db postgresql    # a scratch database on the local PostgreSQL
    .venv/bin/python -m bench.integrity --quick            # a 500-word essay, 3 repeats (run by tests/bench)

The history is ``integrity.simulate.reviser`` (one op per keystroke, typos fixed, words and sentences rewritten)
for ``--words`` words, stored the way the editor sends it: batches of ``--per-batch`` ops (the editor's ~2 s of
typing), each a row of ``edit_batches``, then a submission with its version. Measured, ``--repeat`` times each:

- ``compute``: the pure computation (``evidence.compute`` + ``flags.evaluate``) over the ops in memory;
- ``report``: what the first view of a report costs before rendering: ``IntegrityService.compute`` reading the
  log page by page from the database and the final text, then the flags (no cache).

Prints one JSON object with the medians and p95 of the wall clock, the median CPU time of this process (the
database server's work on PostgreSQL is not in it) and the load average at the end (``--out`` writes it too).
Target: p95 < 1 s.
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
from bench.similarity import percentile


async def _seed(log: list[dict[str, Any]], final: str, per_batch: int) -> dict[str, Any]:
    from sqlalchemy import insert

    from scribetree.core import clock, db
    from scribetree.core.ids import uuid7
    from scribetree.courses.models import Assignment, Course
    from scribetree.identity.models import User
    from scribetree.tenancy.models import Tenant, TenantStatus, TenantType
    from scribetree.writing import ops
    from scribetree.writing.models import Document, DocumentVersion, EditBatch, Submission, VersionKind

    now = clock.utcnow()
    async with db.unit_of_work() as s:
        tenant = Tenant(
            slug="bench-integrity", name="Bench", type=TenantType.higher_ed, region="us", status=TenantStatus.active
        )
        s.add(tenant)
        await s.flush()
        user = User(email="writer@bench.example.edu", display_name="Writer", is_active=True, failed_signins=0)
        s.add(user)
        course = Course(tenant_id=tenant.id, title="Bench course")
        s.add(course)
        await s.flush()
        a = Assignment(tenant_id=tenant.id, course_id=course.id, title="Essay", stages=[], published_at=now)
        s.add(a)
        await s.flush()
        chunks = [log[i : i + per_batch] for i in range(0, len(log), per_batch)]
        doc = Document(
            tenant_id=tenant.id,
            assignment_id=a.id,
            owner_user_id=user.id,
            text=final,
            revision=len(chunks),
            content_hash=ops.content_hash(final),
            word_count=ops.word_count(final),
        )
        s.add(doc)
        await s.flush()
        s.add(
            DocumentVersion(
                tenant_id=tenant.id,
                document_id=doc.id,
                revision=0,
                kind=VersionKind.auto,
                text="",
                content_hash=ops.content_hash(""),
                word_count=0,
            )
        )
        version = DocumentVersion(
            tenant_id=tenant.id,
            document_id=doc.id,
            revision=len(chunks),
            kind=VersionKind.submission,
            text=final,
            content_hash=doc.content_hash,
            word_count=doc.word_count,
        )
        s.add(version)
        await s.flush()
        rows = [
            {
                "id": uuid7(),
                "tenant_id": tenant.id,
                "document_id": doc.id,
                "session_id": doc.id,
                "seq": k + 1,
                "base_revision": k,
                "revision": k + 1,
                "content_hash": "0" * 64,
                "author_user_id": user.id,
                "ops": chunk,
                "chars_inserted": 0,
                "chars_deleted": 0,
                "received_at": now,
            }
            for k, chunk in enumerate(chunks)
        ]
        for i in range(0, len(rows), 1000):
            await s.execute(insert(EditBatch), rows[i : i + 1000])
        sub = Submission(
            tenant_id=tenant.id,
            document_id=doc.id,
            assignment_id=a.id,
            version_id=version.id,
            submitted_by=user.id,
            attempt=1,
            revision=len(chunks),
            content_hash=doc.content_hash,
            word_count=doc.word_count,
            submitted_at=clock.utcnow(),
        )
        s.add(sub)
        await s.flush()
        return {
            "tenant_id": tenant.id,
            "document_id": doc.id,
            "assignment_id": a.id,
            "submission": sub,
            "batches": len(rows),
        }


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from scribetree.core import db
    from scribetree.integrity import evidence, flags, simulate
    from scribetree.integrity.service import _Target, integrity
    from scribetree.writing.models import Document

    log = simulate.reviser(random.Random(args.seed), args.words)
    final = simulate.final_text(log)
    compute_s: list[float] = []
    compute_cpu: list[float] = []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        ev = evidence.compute([evidence.Batch(ops=log, revision=1)], final)
        flags.evaluate(ev)
        compute_s.append(time.perf_counter() - t0)
        compute_cpu.append(time.process_time() - c0)
    assert ev.consistent
    db.use_engines(db.create_engines(url))
    report_s: list[float] = []
    report_cpu: list[float] = []
    try:
        seeded = await _seed(log, final, args.per_batch)
        sub = seeded["submission"]
        for _ in range(args.repeat):
            async with db.unit_of_work(write=False) as s:
                doc = await s.get(Document, seeded["document_id"])
                assert doc is not None
                target = _Target(doc, seeded["assignment_id"], True, sub.id, 1, sub.revision, None, doc.owner_user_id)
                t0, c0 = time.perf_counter(), time.process_time()
                got = await integrity.compute(s, target)
                flags.evaluate(got)
                report_s.append(time.perf_counter() - t0)
                report_cpu.append(time.process_time() - c0)
                assert got.consistent and got.final_chars == len(final)
    finally:
        await db.dispose_engines()
    return {
        "db": args.db,
        "words": ev.final_words,
        "events": len(log),
        "batches": seeded["batches"],
        "repeat": args.repeat,
        "compute_median_s": round(statistics.median(compute_s), 4),
        "compute_p95_s": round(percentile(compute_s, 95), 4),
        "report_median_s": round(statistics.median(report_s), 4),
        "report_p95_s": round(percentile(report_s, 95), 4),
        "report_runs_s": [round(x, 4) for x in report_s],
        "compute_cpu_median_s": round(statistics.median(compute_cpu), 4),
        "report_cpu_median_s": round(statistics.median(report_cpu), 4),
        **environment(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--words", type=int, default=4300, help="words drafted (the final text is ~5,000 words)")
    parser.add_argument("--per-batch", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a 500-word essay, 3 repeats")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.words, args.repeat = 500, 3
    with scratch_database(args.db, "integrity") as url:
        result = asyncio.run(_run(args, url))
    emit(result, args.out)


if __name__ == "__main__":
    main()
