"""Analytics endpoints for a course of 200 students with a semester of events (issue 5: p95 < 100 ms).

    .venv/bin/python -m bench.analytics                          # SQLite and PostgreSQL, full size
    .venv/bin/python -m bench.analytics --db sqlite --repeat 3   # one database, three measured runs
    .venv/bin/python -m bench.analytics --quick                  # tiny sizes on SQLite (run by tests/bench)

Per database: a fresh database (``scribetree init``), ``bench.seed --course`` (one institution admin and
``--students`` students in one course), then a semester of writing, bulk-inserted (``--phase seed-events`` in a
subprocess with the server's environment): ``--assignments`` published assignments spread over ``--days`` days
(two stages with due dates, word_min 600), and for every student and assignment a document written on
``--writing-days`` days, ``--batches-per-day`` batches a day, 2-5 s apart with a pause now and then (inserts at
the end, some deletions and a paste now and then: valid ops, replayed by the analytics fold). Then the catch-up
(``--phase catch-up``): ``analytics.refresh_tenant`` in units of work of 25 documents until nothing is stale;
its wall time and batches/s are reported. Then ``scribetree serve`` (one process, the in-process worker off so
that only the requests are measured) and ``--concurrency`` clients signed in as the institution admin request
(back to back, or with an exponential ``--think`` time between requests, like people reading each page), for
``--duration`` seconds after a ``--warmup``, an even mix of: the course's figures, an assignment's, a
random student's, a random document's and the class's daily series. Reported per endpoint and overall:
requests, p50/p95/p99 in ms, errors (any status other than 200). One JSON object per run (``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import percentile
from bench.run import SLUG, VENV_BIN, Server, base_env, check, cpu_seconds, database
from bench.seed import PASSWORD, email_for

# the vocabulary of the synthetic essays (split at run time: a literal list of 31 words would be one long line)
_VOCABULARY = (
    "the essay argues that public libraries remain essential because they offer quiet space free access "
    "and trusted guidance to readers of every age while budgets shrink and screens compete for attention"
)
WORDS = _VOCABULARY.split(" ")


# ---- phases run inside the server's environment ---------------------------------------------------------------


async def seed_events(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from scribetree.core import clock
    from scribetree.core.db import dispose_engines, unit_of_work
    from scribetree.core.ids import uuid7
    from scribetree.courses.models import Assignment, CourseMember, CourseRole
    from scribetree.writing import ops
    from scribetree.writing.models import Document, EditBatch

    rng = random.Random(args.seed)
    tenant_id, course_id = uuid.UUID(args.tenant_id), uuid.UUID(args.course_id)
    started = time.perf_counter()
    now = clock.utcnow()
    semester_start = now - timedelta(days=args.days)
    span = max(1, args.days // args.assignments)
    batches = documents = 0
    try:
        async with unit_of_work() as s:
            students = list(
                (
                    await s.scalars(
                        select(CourseMember.user_id).where(
                            CourseMember.tenant_id == tenant_id,
                            CourseMember.course_id == course_id,
                            CourseMember.role == CourseRole.student,
                        )
                    )
                ).all()
            )
            assignments = []
            for k in range(args.assignments):
                opens = semester_start + timedelta(days=k * span)
                due = opens + timedelta(days=span)
                a = Assignment(
                    tenant_id=tenant_id,
                    course_id=course_id,
                    title=f"Essay {k + 1}",
                    instructions_md="Write.",
                    stages=[
                        {"key": "draft", "label": "Draft", "due_at": (opens + timedelta(days=span / 2)).isoformat()},
                        {"key": "final", "label": "Final", "due_at": due.isoformat()},
                    ],
                    word_min=600,
                    published_at=opens,
                    due_at=due,
                )
                s.add(a)
                assignments.append((a, opens))
            await s.flush()
            plan = [(a.id, opens) for a, opens in assignments]
        for assignment_id, opens in plan:
            async with unit_of_work() as s:
                rows: list[dict[str, Any]] = []
                for user_id in students:
                    text, revision, at = "", 0, opens
                    days = sorted(rng.sample(range(span), min(args.writing_days, span)))
                    for day in days:
                        at = max(at, opens + timedelta(days=day, hours=rng.uniform(8, 21)))
                        session_id = uuid.uuid4()
                        for seq in range(1, args.batches_per_day + 1):
                            at += timedelta(seconds=rng.choice((2, 3, 3, 4, 5)) if rng.random() > 0.08 else 45)
                            roll = rng.random()
                            if roll < 0.1 and len(text) > 20:
                                n = rng.randint(1, 12)
                                raw = [{"kind": "delete", "t": 0, "pos": len(text) - n, "len": n}]
                            elif roll < 0.12:
                                piece = " " + " ".join(rng.choices(WORDS, k=30))
                                raw = [{"kind": "paste", "t": 0, "pos": len(text), "text": piece, "seen_in_doc": False}]
                            else:
                                piece = " " + " ".join(rng.choices(WORDS, k=rng.randint(3, 7)))
                                raw = [{"kind": "insert", "t": 0, "pos": len(text), "text": piece}]
                            applied = ops.apply_counted(text, ops.parse_ops(raw))
                            text = applied.text
                            rows.append(
                                {
                                    "tenant_id": tenant_id,
                                    "session_id": session_id,
                                    "seq": seq,
                                    "base_revision": revision,
                                    "revision": revision + 1,
                                    "content_hash": "",
                                    "author_user_id": user_id,
                                    "ops": raw,
                                    "chars_inserted": applied.chars_inserted,
                                    "chars_deleted": applied.chars_deleted,
                                    "received_at": at,
                                }
                            )
                            revision += 1
                    doc = Document(
                        tenant_id=tenant_id,
                        assignment_id=assignment_id,
                        owner_user_id=user_id,
                        text=text,
                        revision=revision,
                        content_hash=hashlib.sha256(text.encode()).hexdigest(),
                        word_count=ops.word_count(text),
                        last_activity_at=at,
                        snapshot_revision=revision,
                        created_at=opens,
                    )
                    s.add(doc)
                    await s.flush()
                    documents += 1
                    for r in rows:
                        r.setdefault("document_id", doc.id)
                        r.setdefault("id", uuid7())
                        r["content_hash"] = r["content_hash"] or doc.content_hash
                    if len(rows) >= 5_000:
                        await s.execute(insert(EditBatch), rows)
                        batches += len(rows)
                        rows = []
                if rows:
                    await s.execute(insert(EditBatch), rows)
                    batches += len(rows)
    finally:
        await dispose_engines()
    return {
        "documents": documents,
        "batches": batches,
        "assignment_ids": [str(a) for a, _ in plan],
        "seconds": round(time.perf_counter() - started, 1),
    }


async def catch_up(args: argparse.Namespace) -> dict[str, Any]:
    from scribetree.analytics.service import analytics
    from scribetree.core.db import dispose_engines, unit_of_work

    tenant_id = uuid.UUID(args.tenant_id)
    started = time.perf_counter()
    documents = batches = 0
    try:
        while True:
            async with unit_of_work() as s:
                r = await analytics.refresh_tenant(s, tenant_id, max_documents=25)
            if r.documents == 0:
                break
            documents += r.documents
            batches += r.batches
    finally:
        await dispose_engines()
    seconds = time.perf_counter() - started
    return {
        "documents": documents,
        "batches": batches,
        "seconds": round(seconds, 1),
        "batches_per_s": round(batches / seconds) if seconds else None,
    }


# ---- the measured client ----------------------------------------------------------------------------------------


async def load(
    base: str,
    ids: dict[str, Any],
    concurrency: int,
    warmup: float,
    duration: float,
    pid: int | None = None,
    sequential_n: int = 20,
    think: float = 0.0,
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30.0) as c:
        r = await c.post(f"/api/v1/tenants/{SLUG}/session", json={"email": email_for(0), "password": PASSWORD})
        r.raise_for_status()
        cookie = r.cookies.get("st_session")
    headers = {"cookie": f"st_session={cookie}"}
    kinds = {
        "course": lambda rng: f"/api/v1/analytics/courses/{ids['course_id']}",
        "assignment": lambda rng: f"/api/v1/analytics/assignments/{rng.choice(ids['assignment_ids'])}",
        "student": lambda rng: f"/api/v1/analytics/courses/{ids['course_id']}/students/{rng.choice(ids['students'])}",
        "document": lambda rng: f"/api/v1/analytics/documents/{rng.choice(ids['documents'])}",
        "daily": lambda rng: f"/api/v1/analytics/courses/{ids['course_id']}/daily",
    }
    samples: list[tuple[str, float, float, int]] = []  # kind, started, seconds, status
    t_start = time.perf_counter()
    t_measure, t_end = t_start + warmup, t_start + warmup + duration

    async def client(k: int) -> None:
        rng = random.Random(k)
        names = list(kinds)
        async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30.0, headers=headers) as c:
            i = k
            while time.perf_counter() < t_end:
                kind = names[i % len(names)]
                i += 1
                t0 = time.perf_counter()
                try:
                    status = (await c.get(kinds[kind](rng))).status_code
                except httpx.HTTPError:
                    status = 0
                samples.append((kind, t0, time.perf_counter() - t0, status))
                if think:  # a person reading the page before the next one (exponential, mean ``think`` s)
                    await asyncio.sleep(min(rng.expovariate(1 / think), 4 * think))

    cpu_before = cpu_seconds(pid) if pid else 0.0
    await asyncio.gather(*(client(k) for k in range(concurrency)))
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / len(samples) if pid and samples else None
    measured = [s for s in samples if t_measure <= s[1] < t_end]

    def summary(rows: list[tuple[str, float, float, int]]) -> dict[str, Any]:
        ms = sorted(r[2] * 1000 for r in rows)
        if not ms:
            return {"n": 0}
        return {
            "n": len(ms),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(ms[-1], 1),
            "errors": sum(1 for r in rows if r[3] != 200),
        }

    # then one request at a time per endpoint: latency without self-queueing, and server CPU per request
    sequential: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, trust_env=False, timeout=30.0, headers=headers) as c:
        rng = random.Random(99)
        for kind, url in kinds.items():
            times, cpu0 = [], cpu_seconds(pid) if pid else 0.0
            for _ in range(sequential_n):
                t0 = time.perf_counter()
                r = await c.get(url(rng))
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text[:300]
            cpu = (cpu_seconds(pid) - cpu0) * 1000 / sequential_n if pid else None
            times.sort()
            sequential[kind] = {
                "n": sequential_n,
                "p50_ms": round(percentile(times, 50), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "server_cpu_ms": cpu and round(cpu, 1),
            }
    return {
        "sequential": sequential,
        # server CPU per request (warm-up included): what a request costs, whatever the machine's load
        "all": {
            **summary(measured),
            "rps": round(len(measured) / duration, 1),
            "server_cpu_ms_per_request": cpu_ms and round(cpu_ms, 1),
        },
        **{k: summary([s for s in measured if s[0] == k]) for k in kinds},
    }


def document_and_student_ids(env: dict[str, str], tenant_id: str, course_id: str) -> dict[str, list[str]]:
    out = check(
        [sys.executable, "-m", "bench.analytics", "--phase", "ids", "--tenant-id", tenant_id, "--course-id", course_id],
        env,
        "ids",
    )
    return json.loads(out.strip().splitlines()[-1])


async def list_ids(args: argparse.Namespace) -> dict[str, list[str]]:
    from sqlalchemy import select

    from scribetree.core.db import dispose_engines, unit_of_work
    from scribetree.courses.models import Assignment, CourseMember, CourseRole
    from scribetree.writing.models import Document

    tenant_id, course_id = uuid.UUID(args.tenant_id), uuid.UUID(args.course_id)
    try:
        async with unit_of_work(write=False) as s:
            students = (
                await s.scalars(
                    select(CourseMember.user_id).where(
                        CourseMember.tenant_id == tenant_id,
                        CourseMember.course_id == course_id,
                        CourseMember.role == CourseRole.student,
                    )
                )
            ).all()
            docs = (
                await s.scalars(
                    select(Document.id)
                    .join(Assignment, Assignment.id == Document.assignment_id)
                    .where(Document.tenant_id == tenant_id, Assignment.course_id == course_id)
                )
            ).all()
    finally:
        await dispose_engines()
    return {"students": [str(u) for u in students], "documents": [str(d) for d in docs]}


# ---- one database -----------------------------------------------------------------------------------------------


def run_one(db: str, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    with database(db, tag) as (data_dir, url):
        env = base_env(data_dir, url, {"SCRIBETREE_WORKER_IN_PROCESS": "false"})
        check([str(VENV_BIN / "scribetree"), "init"], env, "scribetree init")
        seeded = json.loads(
            check(
                [
                    sys.executable,
                    "-m",
                    "bench.seed",
                    "--users",
                    str(args.students + 1),
                    "--admin-every",
                    str(args.students + 1),
                    "--course",
                    "--slug",
                    SLUG,
                ],
                env,
                "bench.seed",
            )
            .strip()
            .splitlines()[-1]
        )
        common = ["--tenant-id", seeded["tenant_id"], "--course-id", seeded["course_id"]]
        events = json.loads(
            check(
                [
                    sys.executable,
                    "-m",
                    "bench.analytics",
                    "--phase",
                    "seed-events",
                    *common,
                    "--days",
                    str(args.days),
                    "--assignments",
                    str(args.assignments),
                    "--writing-days",
                    str(args.writing_days),
                    "--batches-per-day",
                    str(args.batches_per_day),
                    "--seed",
                    str(args.seed),
                ],
                env,
                "seed-events",
                timeout=3600,
            )
            .strip()
            .splitlines()[-1]
        )
        caught = json.loads(
            check(
                [sys.executable, "-m", "bench.analytics", "--phase", "catch-up", *common], env, "catch-up", timeout=3600
            )
            .strip()
            .splitlines()[-1]
        )
        ids = {
            "course_id": seeded["course_id"],
            "assignment_ids": events["assignment_ids"],
            **document_and_student_ids(env, seeded["tenant_id"], seeded["course_id"]),
        }
        log = Path(data_dir) / "server.log"
        server = Server(
            f"scribetree-{db}",
            [str(VENV_BIN / "scribetree"), "serve", "--host", "127.0.0.1", "--port", "{port}", "--no-migrate"],
            env,
            "/healthz",
            log,
        )
        server.start()
        try:
            assert server.proc is not None
            measured = asyncio.run(
                load(
                    server.url,
                    ids,
                    args.concurrency,
                    args.warmup,
                    args.duration,
                    server.proc.pid,
                    args.sequential,
                    args.think,
                )
            )
        finally:
            server.stop()
        return {
            "db": db,
            "students": seeded["students"],
            "events": events,
            "catch_up": caught,
            "concurrency": args.concurrency,
            "think_s": args.think,
            "duration_s": args.duration,
            "endpoints": measured,
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default="sqlite,postgresql")
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--assignments", type=int, default=4)
    p.add_argument("--days", type=int, default=120, help="length of the semester")
    p.add_argument("--writing-days", type=int, default=10, help="days each student writes on each assignment")
    p.add_argument("--batches-per-day", type=int, default=30)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds each client waits between requests (0: back to back, a saturating closed loop)",
    )
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--sequential", type=int, default=20, help="requests per endpoint, one at a time, afterwards")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="10 students, 2 assignments, a few days (tests)")
    p.add_argument("--out", type=Path)
    p.add_argument("--phase", choices=["seed-events", "catch-up", "ids"], help=argparse.SUPPRESS)
    p.add_argument("--tenant-id", help=argparse.SUPPRESS)
    p.add_argument("--course-id", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        import scribetree.models  # noqa: F401 (every table, so the ORM resolves foreign keys)

        fn = {"seed-events": seed_events, "catch-up": catch_up, "ids": list_ids}[args.phase]
        print(json.dumps(asyncio.run(fn(args))))
        return
    if args.quick:
        args.db = "sqlite" if args.db == "sqlite,postgresql" else args.db
        args.students, args.assignments, args.days, args.writing_days = 10, 2, 14, 3
        args.batches_per_day, args.duration, args.warmup, args.concurrency = 10, 2.0, 0.5, 2
        args.sequential = 3
    runs = []
    for db in args.db.split(","):
        for k in range(args.repeat):
            r = run_one(db, args, f"analytics_{uuid.uuid4().hex[:6]}_{k}")
            runs.append(r)
            e = r["endpoints"]
            print(
                f"{db} run {k + 1}: {r['events']['batches']:,} batches in {r['events']['documents']} documents; "
                f"catch-up {r['catch_up']['seconds']} s ({r['catch_up']['batches_per_s']} batches/s); "
                + "; ".join(
                    f"{name} n={v.get('n')} p50={v.get('p50_ms')} p95={v.get('p95_ms')} "
                    f"p99={v.get('p99_ms')} err={v.get('errors')}"
                    for name, v in e.items()
                    if name != "sequential"
                )
                + " | one at a time: "
                + "; ".join(f"{k} p50={v['p50_ms']} cpu={v['server_cpu_ms']} ms" for k, v in e["sequential"].items()),
                flush=True,
            )
    medians: dict[str, Any] = {}
    for db in args.db.split(","):
        mine = [r for r in runs if r["db"] == db]
        medians[db] = {
            "catch_up_s": statistics.median(r["catch_up"]["seconds"] for r in mine),
            **{
                f"{name}_p95_ms": statistics.median(r["endpoints"][name].get("p95_ms", 0) for r in mine)
                for name in mine[0]["endpoints"]
                if name != "sequential"
            },
            **{
                f"{name}_cpu_ms": statistics.median(
                    r["endpoints"]["sequential"][name]["server_cpu_ms"] or 0 for r in mine
                )
                for name in mine[0]["endpoints"]["sequential"]
            },
        }
    report = {"runs": runs, "medians": medians, "command": " ".join(sys.argv)}
    print(json.dumps(medians))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
