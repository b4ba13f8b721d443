"""The staff submission list of a large class: CPU per call of ``assignment_overview`` (issue 3).

The class-writing scenario's educators read this list every ~2 s (bench/README.md, scenario c), so its cost per
call matters. This makes a scratch database (``bench.seed --course``: one course, every student enrolled, one
published assignment), opens a document for every student, then times ``document_service.assignment_overview``
as an instructor sees it, in a read unit of work, and prints the median process CPU and wall time per call.

    .venv/bin/python -m bench.submission_list [--db sqlite|postgresql] [--users 520] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.alerts import emit, environment, scratch_database

ROOT = Path(__file__).resolve().parents[1]


async def _run(args: argparse.Namespace, url: str, seeded: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import select

    from scribetree.core import db
    from scribetree.core.audit import RequestMeta
    from scribetree.courses.models import CourseMember, CourseRole
    from scribetree.identity.models import User
    from scribetree.identity.service import identity
    from scribetree.tenancy.service import access
    from scribetree.writing.service import document as document_service

    db.use_engines(db.create_engines(url))
    tenant_id, course_id = uuid.UUID(seeded["tenant_id"]), uuid.UUID(seeded["course_id"])
    assignment_id = uuid.UUID(seeded["assignment_id"])

    async def context(user_id: uuid.UUID) -> Any:
        async with db.unit_of_work() as s:
            user = await s.get(User, user_id)
            token, _ = await identity.start_session(s, user=user, tenant_id=tenant_id, meta=RequestMeta())
        async with db.unit_of_work(write=False) as s:
            return await access.context_from_session(s, token, RequestMeta())

    async with db.unit_of_work(write=False) as s:
        students = list(
            (
                await s.execute(
                    select(CourseMember.user_id).where(
                        CourseMember.course_id == course_id, CourseMember.role == CourseRole.student
                    )
                )
            ).scalars()
        )
        admin = (await s.execute(select(User.id).where(User.email == seeded["email_pattern"].format(i=0)))).scalar_one()
    for student in students:  # every student has a document, as in a class at work
        ctx = await context(student)
        async with db.unit_of_work() as s:
            await document_service.open_mine(s, ctx, assignment_id)
    staff = await context(admin)
    cpu, wall, rows = [], [], 0
    for _ in range(args.calls):
        async with db.unit_of_work(write=False) as s:
            c0, t0 = time.process_time(), time.perf_counter()
            rows = len(await document_service.assignment_overview(s, staff, assignment_id))
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
    await db.dispose_engines()
    return {
        "db": args.db,
        "rows": rows,
        "calls": args.calls,
        "cpu_ms_median": round(statistics.median(cpu) * 1000, 2),
        "wall_ms_median": round(statistics.median(wall) * 1000, 2),
        **environment(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=520, help="people seeded; every 20th is an admin")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with scratch_database(args.db, "submission-list") as url:
        env = {**os.environ, "SCRIBETREE_DATABASE_URL": url}
        seed = [
            sys.executable,
            "-m",
            "bench.seed",
            "--users",
            str(args.users),
            "--slug",
            "bench",
            "--admin-every",
            "20",
            "--course",
        ]
        out = subprocess.run(seed, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        seeded = json.loads(out.stdout.strip().splitlines()[-1])
        result = asyncio.run(_run(args, url, seeded))
    emit(result, args.out)


if __name__ == "__main__":
    main()
