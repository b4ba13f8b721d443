"""CPU cost of the editor's batch write path (``DocumentService.apply_batch``), one batch per unit of work.

    .venv/bin/python -m bench.batch_script                          # SQLite in a temporary directory, N=2000
    .venv/bin/python -m bench.batch_script --baseline 37e430d      # and the BatchStore of that commit, same run
    .venv/bin/python -m bench.batch_script --db postgresql          # a scratch database on the local PostgreSQL
    .venv/bin/python -m bench.batch_script --quick                  # N=200 (a smoke run)
    valgrind --tool=callgrind .venv/bin/python -m bench.batch_script --baseline REV --only baseline -n 300
                                                                    # instructions instead of noisy CPU time

A fresh database (``alembic upgrade head``) gets a tenant, a course, a published assignment and one student per
variant (no password: nothing hashes). Each student opens their document through the service, then sends ``-n``
batches the way the editor does (``--ops`` single-character inserts typing words at the end of the text), each
in its own ``db.unit_of_work()``: access check, the write script (``_write_batch`` over ``BatchStore``), commit.
A warm-up of ``--warmup`` batches per variant is not measured (statement caches, the text cache).

``--baseline REV`` loads ``src/scribetree/writing/repository.py`` as it is at git revision REV into a scratch
module and runs the same batches through its ``BatchStore`` (the service's module attribute swapped for the
duration of that variant's rounds); the variants alternate in ``--rounds`` rounds, so drift of the machine hits
both alike.

Reported per variant (medians over the measured batches):

- ``batch_cpu_us``: process CPU time (``time.process_time``, every thread: the loop's and the writer's) of one
  ``apply_batch`` + commit;
- ``script_cpu_us``: CPU time of the write script alone (``time.thread_time`` on the thread that runs it: on
  SQLite the writer connection's thread);
- ``batch_wall_us``: wall clock of one batch.

Prints one JSON object (``--out`` writes it too). CPU time is what competes with the event loop (GIL); on
PostgreSQL the server's own work is not in it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.alerts import emit, environment, scratch_database

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "students", "write", "essays")


def _baseline_store(rev: str) -> Any:
    """``BatchStore`` of ``writing/repository.py`` at git revision ``rev``, loaded as a scratch module."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/scribetree/writing/repository.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tmp = Path(tempfile.mkdtemp()) / "baseline_repository.py"
    tmp.write_text(source)
    spec = importlib.util.spec_from_file_location("_bench_baseline_repository", tmp)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.BatchStore


async def _seed(variants: list[str]) -> tuple[Any, dict[str, Any]]:
    """A tenant, course, published assignment, and per variant a student with an open document."""
    from tests.factories.courses import create_assignment, create_course, create_course_member
    from tests.factories.tenancy import create_tenant

    from scribetree.core import db
    from scribetree.courses.models import CourseRole
    from scribetree.tenancy.context import AuthContext
    from scribetree.tenancy.models import Role
    from scribetree.writing.service import document as document_service

    async with db.unit_of_work() as s:
        tenant = await create_tenant(s, slug="bench-batch-script")
        course = await create_course(s, tenant)
        assignment = await create_assignment(s, course)
        students = {
            v: await create_course_member(s, course, tenant, CourseRole.student, password=None) for v in variants
        }
        ctxs = {
            v: AuthContext(
                user_id=u.id,
                email=u.email,
                display_name=u.display_name,
                tenant_id=tenant.id,
                tenant_slug=tenant.slug,
                role=Role.student,
                platform_role=None,
                via="session",
            )
            for v, u in students.items()
        }
        assignment_id = assignment.id
    docs: dict[str, Any] = {}
    for v, ctx in ctxs.items():
        async with db.unit_of_work() as s:
            doc = await document_service.open_mine(s, ctx, assignment_id)
            docs[v] = {"ctx": ctx, "id": doc.id, "text": doc.text, "revision": doc.revision, "seq": 0}
    return assignment_id, docs


def _next_body(state: dict[str, Any], n_ops: int, session_id: uuid.UUID) -> Any:
    from scribetree.writing import ops
    from scribetree.writing.schemas import BatchCreate

    text = state["text"]
    raw: list[dict[str, Any]] = []
    word = WORDS[(state["seq"] * 7) % len(WORDS)] + " "
    pos = len(text)
    for k in range(n_ops):
        raw.append(
            {
                "kind": "insert",
                "t": 1_764_000_000_000 + state["seq"] * 2000 + k,
                "pos": pos,
                "text": word[k % len(word)],
            }
        )
        pos += 1
    after = ops.apply(text, ops.parse_ops(raw))
    state["seq"] += 1
    body = BatchCreate.model_validate(
        {
            "session_id": str(session_id),
            "seq": state["seq"],
            "base_revision": state["revision"],
            "ops": raw,
            "content_hash": ops.content_hash(after),
        }
    )
    return body, after


async def _run(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from scribetree.core import db
    from scribetree.writing import repository, service
    from scribetree.writing.service import document as document_service

    current = repository.BatchStore
    stores = {"current": current}
    if args.baseline:
        stores = {"baseline": _baseline_store(args.baseline), **stores}
    if args.only:
        stores = {args.only: stores[args.only]}
    db.use_engines(db.create_engines(url))
    script_cpu: list[float] = []
    original_script = document_service._write_batch

    def timed_script(*a: Any) -> Any:
        c0 = time.thread_time()
        try:
            return original_script(*a)
        finally:
            script_cpu.append(time.thread_time() - c0)

    document_service._write_batch = timed_script  # type: ignore[method-assign]
    samples: dict[str, dict[str, list[float]]] = {v: {"cpu": [], "script": [], "wall": []} for v in stores}
    try:
        _, docs = await _seed(list(stores))
        sessions = {v: uuid.uuid4() for v in stores}

        async def send(variant: str, measure: bool) -> None:
            state = docs[variant]
            body, after = _next_body(state, args.ops, sessions[variant])
            script_cpu.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            async with db.unit_of_work() as s:
                accepted = await document_service.apply_batch(s, state["ctx"], state["id"], body)
            c1, t1 = time.process_time(), time.perf_counter()
            assert not accepted.replayed and accepted.revision == state["revision"] + 1, accepted
            state["text"], state["revision"] = after, accepted.revision
            if measure:
                samples[variant]["cpu"].append(c1 - c0)
                samples[variant]["wall"].append(t1 - t0)
                samples[variant]["script"].append(sum(script_cpu))

        for variant, store in stores.items():
            service.BatchStore = store  # type: ignore[misc]
            for _ in range(args.warmup):
                await send(variant, False)
        per_round = max(1, args.n // args.rounds)
        for _ in range(args.rounds):
            for variant, store in stores.items():
                service.BatchStore = store  # type: ignore[misc]
                for _ in range(per_round):
                    await send(variant, True)
    finally:
        service.BatchStore = current  # type: ignore[misc]
        del document_service._write_batch
        await db.dispose_engines()
    out: dict[str, Any] = {"db": args.db, "n": per_round * args.rounds, "ops_per_batch": args.ops}
    if args.baseline:
        out["baseline_rev"] = args.baseline
    for variant, s in samples.items():
        out[variant] = {
            "batch_cpu_us": round(statistics.median(s["cpu"]) * 1e6),
            "script_cpu_us": round(statistics.median(s["script"]) * 1e6),
            "batch_wall_us": round(statistics.median(s["wall"]) * 1e6),
            "final_chars": len(docs[variant]["text"]),
        }
    out |= environment()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("-n", type=int, default=2000, help="measured batches per variant")
    parser.add_argument("--ops", type=int, default=20, help="ops (typed characters) per batch")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the variants")
    parser.add_argument("--baseline", metavar="REV", help="also measure BatchStore of this git revision")
    parser.add_argument(
        "--only", choices=["baseline", "current"], help="measure one variant (e.g. under callgrind, one per run)"
    )
    parser.add_argument("--quick", action="store_true", help="N=200, warm-up 10")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.n, args.warmup = 200, 10
    with scratch_database(args.db, "batch_script") as url:
        result = asyncio.run(_run(args, url))
    emit(result, args.out)


if __name__ == "__main__":
    main()
