"""Similarity indexing throughput and lookup latency as the index grows (issue 6).

    .venv/bin/python -m bench.similarity                       # SQLite file in a temp dir, 1,000 and 5,000
    .venv/bin/python -m bench.similarity --postgres-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.similarity --quick               # a few seconds; run by tests/bench

One institution, courses of 10 assignments, every submission by a different student. Texts are generated
deterministically (a Zipf-like vocabulary, sentences of 8-30 words, ``--words`` words each); one in ten copies a
passage of 40-80 words from an earlier submission, one in twenty quotes one with a citation, so the index finds real
matches. The institution compares across courses (the widest lookup). Every submission is indexed the way the job
does it, ``integrity.similarity.index_submission`` in its own unit of work (commit included), in submission order.

Measured at every checkpoint (``--sizes``): indexing throughput over the last ``--window`` submissions
(submissions/s, words/s: wall clock, one process, one connection; and the process's CPU time per submission, which
on SQLite includes the database's own work, on PostgreSQL not) and, against the index of that size,
``--probes`` fresh texts: the index lookup alone (``SimilarityRepository.candidates`` for a text's fingerprints,
read-only) and a full index of one more submission (fingerprints, lookup, alignment, writes, commit; rolled back
afterwards so the index keeps its size). Prints one JSON document; ``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

VOCAB_SIZE = 6000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


class Corpus:
    """Deterministic texts: Zipf-like word choice, occasional copied or quoted passages from earlier texts."""

    def __init__(self, seed: int, words: int) -> None:
        self.rng = random.Random(seed)
        self.words = words
        self.vocab = [self._word(i) for i in range(VOCAB_SIZE)]
        self.weights = [1 / (i + 1) for i in range(VOCAB_SIZE)]
        self.texts: list[str] = []

    def _word(self, i: int) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz"
        out, n = "", i + 27
        while n:
            n, r = divmod(n, 26)
            out += letters[r]
        return out

    def _sentence(self) -> list[str]:
        n = self.rng.randint(8, 30)
        words = self.rng.choices(self.vocab, weights=self.weights, k=n)
        words[0] = words[0].capitalize()
        return words

    def next(self, *, keep: bool = True) -> str:
        out: list[str] = []
        while len(out) < self.words:
            out += self._sentence()
            out[-1] += "."
        roll = self.rng.random()
        if self.texts and roll < 0.15:
            source = self.rng.choice(self.texts).split()
            length = self.rng.randint(40, 80)
            start = self.rng.randint(0, max(0, len(source) - length))
            passage = source[start : start + length]
            at = self.rng.randint(0, len(out))
            if roll < 0.05:  # quoted and cited
                passage = ["\u201c" + passage[0], *passage[1:-1], passage[-1] + "\u201d", "(Author,", "2020)."]
            out[at:at] = passage
        text = " ".join(out)
        if keep:
            self.texts.append(text)
        return text


async def _schema(url: str) -> None:
    from sqlalchemy import create_engine

    from scribetree.models import Base

    sync_url = url.replace("sqlite+aiosqlite", "sqlite")
    engine = create_engine(sync_url)
    Base.metadata.create_all(engine)
    engine.dispose()


async def _setup(cross_course: bool) -> tuple[uuid.UUID, Any]:
    from scribetree.core import clock
    from scribetree.core.db import unit_of_work
    from scribetree.courses.models import Course
    from scribetree.integrity.similarity_models import SimilaritySettings
    from scribetree.tenancy.models import Tenant, TenantStatus, TenantType

    async with unit_of_work() as session:
        tenant = Tenant(
            slug=f"simbench-{uuid.uuid4().hex[:6]}",
            name="Similarity bench",
            type=TenantType.higher_ed,
            status=TenantStatus.active,
            display_name="Similarity bench",
        )
        session.add(tenant)
        await session.flush()
        session.add(SimilaritySettings(tenant_id=tenant.id, cross_course=cross_course, updated_at=clock.utcnow()))
        return tenant.id, Course


async def _add_submissions(tenant_id: uuid.UUID, texts: list[str], start: int) -> list[uuid.UUID]:
    """Rows for ``texts`` (one student, document and submission each; 10 assignments per course)."""
    from scribetree.core import clock
    from scribetree.core.db import unit_of_work
    from scribetree.courses.models import Assignment, Course
    from scribetree.identity.models import User
    from scribetree.writing import ops
    from scribetree.writing.models import Document, DocumentStatus, DocumentVersion, Submission, VersionKind

    ids: list[uuid.UUID] = []
    async with unit_of_work() as session:
        now = clock.utcnow()
        assignments: dict[int, uuid.UUID] = {}
        for offset, text in enumerate(texts):
            i = start + offset
            slot = i // 50  # 50 submissions per assignment, 10 assignments per course
            if slot not in assignments:
                if slot % 10 == 0 or not assignments:
                    course = Course(tenant_id=tenant_id, title=f"Course {slot // 10}", join_code=f"SB{i:08d}")
                    session.add(course)
                    await session.flush()
                    course_id = course.id
                else:
                    course_id = (await session.get(Assignment, assignments[slot - 1])).course_id  # type: ignore[union-attr]
                a = Assignment(
                    tenant_id=tenant_id,
                    course_id=course_id,
                    title=f"Assignment {slot}",
                    instructions_md="",
                    stages=[],
                    published_at=now,
                    ai_settings={},
                    objectives=[],
                )
                session.add(a)
                await session.flush()
                assignments[slot] = a.id
            user = User(email=f"simbench{i}-{uuid.uuid4().hex[:6]}@example.edu", display_name=f"Student {i}")
            session.add(user)
            await session.flush()
            h = ops.content_hash(text)
            doc = Document(
                tenant_id=tenant_id,
                assignment_id=assignments[slot],
                owner_user_id=user.id,
                text=text,
                revision=1,
                content_hash=h,
                word_count=ops.word_count(text),
                status=DocumentStatus.submitted,
                snapshot_at=now,
                snapshot_revision=1,
                chars_since_snapshot=0,
            )
            session.add(doc)
            await session.flush()
            version = DocumentVersion(
                tenant_id=tenant_id,
                document_id=doc.id,
                revision=1,
                kind=VersionKind.submission,
                text=text,
                content_hash=h,
                word_count=doc.word_count,
                created_at=now,
            )
            session.add(version)
            await session.flush()
            sub = Submission(
                tenant_id=tenant_id,
                document_id=doc.id,
                assignment_id=assignments[slot],
                version_id=version.id,
                submitted_by=user.id,
                attempt=1,
                revision=1,
                content_hash=h,
                word_count=doc.word_count,
                submitted_at=now,
                late=False,
            )
            session.add(sub)
            await session.flush()
            ids.append(sub.id)
    return ids


async def _analyze(url: str) -> None:
    """PostgreSQL: refresh the planner's statistics, as autovacuum does on a server that runs it (the local test
    server runs with autovacuum off; without statistics the fingerprint lookup reads the whole tenant)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text

    from scribetree.core.db import unit_of_work

    async with unit_of_work() as session:
        await session.execute(text("ANALYZE similarity_fingerprints, similarity_submissions"))


async def _index(tenant_id: uuid.UUID, submission_id: uuid.UUID) -> float:
    from scribetree.core.db import unit_of_work
    from scribetree.integrity.similarity import index_submission

    t0 = time.perf_counter()
    async with unit_of_work() as session:
        await index_submission(session, tenant_id, submission_id)
    return time.perf_counter() - t0


async def _lookup(tenant_id: uuid.UUID, text: str) -> tuple[float, int]:
    from scribetree.core.db import unit_of_work
    from scribetree.integrity import similarity_text as st
    from scribetree.integrity.similarity_repository import SimilarityRepository

    t0 = time.perf_counter()
    prints = st.fingerprints(st.analyse(text))
    async with unit_of_work(write=False) as session:
        found = await SimilarityRepository(session, tenant_id).candidates(
            [f.hash for f in prints], exclude_document=uuid.uuid4(), course_id=None
        )
    return time.perf_counter() - t0, len(found)


async def _probe_index(tenant_id: uuid.UUID, text: str, n: int) -> float:
    """Index one more submission and take it out again (the index keeps its size)."""
    from sqlalchemy import delete

    from scribetree.core.db import unit_of_work
    from scribetree.writing.models import Document, Submission

    (sid,) = await _add_submissions(tenant_id, [text], n)
    took = await _index(tenant_id, sid)
    async with unit_of_work() as session:
        doc_id = (await session.get(Submission, sid)).document_id  # type: ignore[union-attr]
        await session.execute(delete(Submission).where(Submission.id == sid))
        await session.execute(delete(Document).where(Document.id == doc_id))
    return took


async def run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from scribetree.core import db
    from scribetree.integrity import similarity_text as st

    await _schema(url)
    db.use_engines(db.create_engines(url))
    try:
        tenant_id, _ = await _setup(cross_course=True)
        corpus = Corpus(args.seed, args.words)
        results: list[dict[str, Any]] = []
        indexed, times, cpu = 0, [], []
        total_words = 0
        for size in args.sizes:
            texts = [corpus.next() for _ in range(size - indexed)]
            ids: list[uuid.UUID] = []
            for i in range(0, len(texts), 500):
                ids += await _add_submissions(tenant_id, texts[i : i + 500], indexed + i)
            for i, (sid, text) in enumerate(zip(ids, texts, strict=True)):
                if i % 500 == 0:
                    await _analyze(url)
                c0 = time.process_time()
                times.append(await _index(tenant_id, sid))
                cpu.append(time.process_time() - c0)
                total_words += len(text.split())
            indexed = size
            await _analyze(url)
            window = times[-args.window :]
            window_words = args.words * len(window)
            probes = [corpus.next(keep=False) for _ in range(args.probes)]
            lookups = [await _lookup(tenant_id, t) for t in probes]
            full = [await _probe_index(tenant_id, t, size + 10_000 + k) for k, t in enumerate(probes)]
            lookup_ms = [x[0] * 1000 for x in lookups]
            full_ms = [x * 1000 for x in full]
            results.append(
                {
                    "index_size": size,
                    "window": len(window),
                    "submissions_per_s": round(len(window) / sum(window), 1),
                    "words_per_s": round(window_words / sum(window)),
                    "cpu_ms_per_submission": round(1000 * sum(cpu[-args.window :]) / len(window), 2),
                    "index_ms_p50": round(statistics.median(x * 1000 for x in window), 2),
                    "index_ms_p95": round(percentile([x * 1000 for x in window], 95), 2),
                    "lookup_ms_p50": round(statistics.median(lookup_ms), 2),
                    "lookup_ms_p95": round(percentile(lookup_ms, 95), 2),
                    "lookup_rows_p50": statistics.median(x[1] for x in lookups),
                    "new_submission_ms_p50": round(statistics.median(full_ms), 2),
                    "new_submission_ms_p95": round(percentile(full_ms, 95), 2),
                }
            )
            print(json.dumps(results[-1]), flush=True)
        from scribetree.core.db import unit_of_work
        from scribetree.integrity.similarity_repository import SimilarityRepository

        async with unit_of_work(write=False) as session:
            repo = SimilarityRepository(session, tenant_id)
            fingerprints = await repo.fingerprint_count()
            matches = len(await repo.all_matches())
        return {
            "database": "postgresql" if url.startswith("postgresql") else "sqlite",
            "k": st.K,
            "window": st.W,
            "words_per_submission": args.words,
            "fingerprints": fingerprints,
            "matches": matches,
            "checkpoints": results,
            "python": platform.python_version(),
            "machine": platform.machine(),
        }
    finally:
        await db.dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="index sizes to measure at (comma separated)")
    parser.add_argument("--words", type=int, default=600, help="words per submission")
    parser.add_argument("--window", type=int, default=200, help="submissions in the throughput window")
    parser.add_argument("--probes", type=int, default=30, help="fresh texts looked up at each checkpoint")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--postgres-admin-url", help="create (and drop) a scratch PostgreSQL database through this")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.words, args.window, args.probes = "30,60", 150, 15, 3
    args.sizes = sorted(int(s) for s in str(args.sizes).split(","))
    scratch = None
    url = args.database_url
    if url is None and args.postgres_admin_url:
        from sqlalchemy import create_engine, text

        scratch = f"simbench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres_admin_url.replace("+asyncpg", "+psycopg"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        url = args.postgres_admin_url.rsplit("/", 1)[0] + f"/{scratch}"
    if url is None:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='simbench-')}/bench.db"
    try:
        result = asyncio.run(run(args, url))
    finally:
        if scratch is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            admin.dispose()
    result["command"] = "python -m bench.similarity " + ("--quick" if args.quick else f"--sizes {args.sizes}")
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
