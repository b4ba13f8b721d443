"""Alert evaluation throughput (issue 5): how many edit events per second the activity evaluation gets through.

    .venv/bin/python -m bench.alerts                       # SQLite in a temporary directory, 200 students
    .venv/bin/python -m bench.alerts --db postgresql       # a scratch database on the local PostgreSQL
    .venv/bin/python -m bench.alerts --quick               # tiny sizes, one repeat (run by tests/bench)

A fresh database (``alembic upgrade head``) gets one institution, one course with an instructor and a TA,
``--students`` students with one document each on a published assignment, and ``--batches`` edit batches per
student spread over the last 30 minutes (one a minute; every 10th student types and deletes without gaining
words, so the stuck rule fires; every 20th pastes 80 words from outside). Each measured run is what the
30-second job does for a tenant: ``alerts.evaluate_activity`` in its own unit of work, from an empty
watermark, committing the alerts, their deliveries and the live pushes; between runs the alerts, deliveries
and the watermark are deleted. events/s = batches in the window / wall-clock seconds of that run. Then the
steady state: the watermark 30 s before ``now`` (the job's period), so every student's newest batch is new but
only the documents that could be stuck (more deleted than typed in the window) have their whole window read. Also
reported: the rules alone (``rules.evaluate`` over the prepared histories, no database), in histories/s.
Prints one JSON object (``--out`` writes it too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parents[1]
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")


def _scratch_pg() -> str:
    import psycopg

    name = f"bench_alerts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("+psycopg", ""), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_database(db: str, name: str) -> Iterator[str]:
    """A migrated scratch database for one benchmark run: a SQLite file in a temporary directory, or a new
    PostgreSQL database on the local server (dropped afterwards). Yields its SQLAlchemy URL."""
    pg_name = None
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/bench-{name}.db"
        else:
            pg_name = _scratch_pg()
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
        try:
            _migrate(url)
            yield url
        finally:
            if pg_name:
                _drop_pg(pg_name)


def environment() -> dict[str, Any]:
    """What every benchmark's JSON records about the machine it ran on."""
    return {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def emit(result: dict[str, Any], out: Path | None) -> None:
    """Print one run's JSON object (and write it to ``--out``)."""
    text = json.dumps(result, default=str)
    print(text)
    if out:
        out.write_text(text)


async def _seed(students: int, batches: int) -> dict[str, Any]:
    from sqlalchemy import insert

    from scribetree.core import clock, db
    from scribetree.core.ids import uuid7
    from scribetree.courses.models import Assignment, Course, CourseMember, CourseRole
    from scribetree.identity.models import User
    from scribetree.tenancy.models import Membership, MembershipStatus, Role, Tenant, TenantStatus, TenantType
    from scribetree.writing.models import Document, EditBatch

    now = clock.utcnow()
    async with db.unit_of_work() as s:
        tenant = Tenant(
            slug="bench-alerts", name="Bench", type=TenantType.higher_ed, region="us", status=TenantStatus.active
        )
        s.add(tenant)
        await s.flush()
        people = [
            User(email=f"u{i}@bench.example.edu", display_name=f"Student {i}", is_active=True, failed_signins=0)
            for i in range(students + 2)
        ]
        s.add_all(people)
        await s.flush()
        s.add_all(
            [
                Membership(
                    tenant_id=tenant.id,
                    user_id=u.id,
                    role=Role.student if i >= 2 else Role.educator,
                    status=MembershipStatus.active,
                )
                for i, u in enumerate(people)
            ]
        )
        course = Course(tenant_id=tenant.id, title="Bench course")
        s.add(course)
        await s.flush()
        roles = [CourseRole.instructor, CourseRole.ta] + [CourseRole.student] * students
        s.add_all(
            [
                CourseMember(tenant_id=tenant.id, course_id=course.id, user_id=u.id, role=r)
                for u, r in zip(people, roles, strict=True)
            ]
        )
        a = Assignment(
            tenant_id=tenant.id,
            course_id=course.id,
            title="Essay",
            stages=[],
            published_at=now - timedelta(days=3),
            due_at=now + timedelta(days=7),
        )
        s.add(a)
        await s.flush()
        docs = [
            Document(
                tenant_id=tenant.id,
                assignment_id=a.id,
                owner_user_id=u.id,
                text="",
                revision=batches,
                content_hash="0" * 64,
                last_activity_at=now,
            )
            for u in people[2:]
        ]
        s.add_all(docs)
        await s.flush()
        rows = []
        for i, d in enumerate(docs):
            stuck = i % 10 == 0
            for k in range(batches):
                at = now - timedelta(minutes=30 * (batches - k) / batches)
                if stuck:
                    ops = [
                        {"kind": "insert", "t": 0, "pos": 0, "text": "maybe "},
                        {"kind": "delete", "t": 0, "pos": 0, "len": 12},
                    ]
                    ins, dele = 6, 12
                elif i % 20 == 5 and k == batches - 1:
                    text = " ".join(["pasted"] * 80)
                    ops = [{"kind": "paste", "t": 0, "pos": 0, "text": text, "seen_in_doc": False}]
                    ins, dele = len(text), 0
                else:
                    ops = [{"kind": "insert", "t": 0, "pos": 0, "text": "some more words of the essay "}]
                    ins, dele = 29, 0
                rows.append(
                    {
                        "id": uuid7(),
                        "tenant_id": tenant.id,
                        "document_id": d.id,
                        "session_id": d.id,
                        "seq": k + 1,
                        "base_revision": k,
                        "revision": k + 1,
                        "content_hash": "0" * 64,
                        "author_user_id": d.owner_user_id,
                        "ops": ops,
                        "chars_inserted": ins,
                        "chars_deleted": dele,
                        "received_at": at,
                    }
                )
        for i in range(0, len(rows), 2000):
            await s.execute(insert(EditBatch), rows[i : i + 2000])
        return {"tenant_id": tenant.id, "events": len(rows), "now": now}


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from sqlalchemy import delete

    from scribetree.alerts import rules
    from scribetree.alerts.models import Alert, AlertDelivery, AlertWatermark
    from scribetree.alerts.repository import ActivityRepository
    from scribetree.alerts.service import alerts
    from scribetree.core import db

    db.use_engines(db.create_engines(url))
    try:
        seeded = await _seed(args.students, args.batches)
        tenant_id, now = seeded["tenant_id"], seeded["now"]
        runs: list[dict[str, float]] = []
        for _ in range(args.repeat):
            async with db.unit_of_work() as s:
                for model in (AlertDelivery, Alert, AlertWatermark):
                    await s.execute(delete(model))
            t0 = time.perf_counter()
            c0 = time.process_time()
            async with db.unit_of_work() as s:
                found = await alerts.evaluate_activity(s, tenant_id, now)
            wall = time.perf_counter() - t0
            runs.append(
                {
                    "seconds": wall,
                    "cpu_seconds": time.process_time() - c0,
                    "alerts": found.created,
                    "targets": found.targets,
                }
            )
        # steady state: the previous run was 30 s ago, so only the newest batches are new
        from scribetree.alerts.repository import WatermarkRepository

        steady: list[dict[str, float]] = []
        for _ in range(args.repeat):
            async with db.unit_of_work() as s:
                for model in (AlertDelivery, Alert, AlertWatermark):
                    await s.execute(delete(model))
                await WatermarkRepository(s, tenant_id).set_value("activity", now - timedelta(seconds=30))
            t0 = time.perf_counter()
            c0 = time.process_time()
            async with db.unit_of_work() as s:
                found = await alerts.evaluate_activity(s, tenant_id, now)
            steady.append(
                {
                    "seconds": time.perf_counter() - t0,
                    "cpu_seconds": time.process_time() - c0,
                    "alerts": found.created,
                    "targets": found.targets,
                }
            )
        # the rules alone, over the same histories
        async with db.unit_of_work(write=False) as s:
            repo = ActivityRepository(s, tenant_id)
            targets = await repo.targets_for_documents(await repo.touched_documents(now - timedelta(hours=1), now))
            histories = await alerts._histories(s, tenant_id, targets, now, recent=True)
        th = rules.thresholds_for(None)
        t0 = time.perf_counter()
        loops = max(1, 20000 // max(1, len(histories)))
        for _ in range(loops):
            for h in histories:
                rules.evaluate(h, th, muted=set(), on_activity=True)
        rule_s = time.perf_counter() - t0
    finally:
        await db.dispose_engines()
    med = statistics.median(r["seconds"] for r in runs)
    return {
        "db": args.db,
        "students": args.students,
        "batches_per_student": args.batches,
        "events": seeded["events"],
        "repeat": args.repeat,
        "alerts_created": runs[-1]["alerts"],
        "targets": runs[-1]["targets"],
        "run_seconds": [round(r["seconds"], 3) for r in runs],
        "median_seconds": round(med, 3),
        "events_per_s": round(seeded["events"] / med, 1),
        "events_per_cpu_s": round(seeded["events"] / statistics.median(r["cpu_seconds"] for r in runs), 1),
        "steady_run_seconds": [round(r["seconds"], 3) for r in steady],
        "steady_median_seconds": round(statistics.median(r["seconds"] for r in steady), 3),
        "steady_median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in steady), 3),
        "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
        "steady_students": steady[-1]["targets"],
        "steady_alerts_created": steady[-1]["alerts"],
        "rules_histories_per_s": round(loops * len(histories) / rule_s, 1) if histories else 0.0,
        **environment(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10 students, 5 batches each, one run")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.students, args.batches, args.repeat = 10, 5, 1
    with scratch_database(args.db, "alerts") as url:
        result = asyncio.run(_run(args, url))
    emit(result, args.out)


if __name__ == "__main__":
    main()
