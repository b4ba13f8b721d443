"""Health, readiness and the operator's view of the job queue."""

from __future__ import annotations

import ast
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from scribetree.core import clock, jobs
from scribetree.core.config import PROJECT_ROOT, settings
from scribetree.core.db import engines
from scribetree.core.errors import Forbidden
from scribetree.ops import metrics
from scribetree.tenancy.context import AuthContext
from scribetree.tenancy.permissions import Permission


def migration_head() -> str | None:
    """The code's newest migration: read from the migration files' ``revision`` / ``down_revision`` lines.

    Without importing alembic (about 10 MB of a serving process that never migrates: readiness calls this);
    if the files do not name exactly one head, alembic decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (PROJECT_ROOT / "migrations" / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            if not isinstance(target, ast.Name) or node.value is None:  # type: ignore[union-attr]
                continue
            if target.id == "revision":
                revisions.add(ast.literal_eval(node.value))  # type: ignore[union-attr]
            elif target.id == "down_revision":
                down = ast.literal_eval(node.value)  # type: ignore[union-attr]
                parents.update(down if isinstance(down, tuple | list) else [down] if down else [])
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


class OpsService:
    _head: str | None = None

    async def readiness(self, session: AsyncSession) -> tuple[bool, dict[str, Any]]:
        """Ready = the database answers, its schema is at the code's migration head, and a worker is alive."""
        checks: dict[str, Any] = {}
        try:
            await session.execute(text("SELECT 1"))
            checks["database"] = {"ok": True}
        except Exception as exc:
            checks["database"] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
            return False, checks
        if self._head is None:
            OpsService._head = migration_head()
        current = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
        checks["migrations"] = {"ok": current == self._head, "current": current, "expected": self._head}
        beat = await jobs.latest_heartbeat(session)
        stale = timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
        worker_ok = beat is not None and clock.utcnow() - beat < stale
        checks["worker"] = {"ok": worker_ok, "last_heartbeat": beat.isoformat() if beat else None}
        return all(c["ok"] for c in checks.values()), checks

    async def refresh_gauges(self, session: AsyncSession) -> None:
        stats = await jobs.queue_stats(session)
        for state, n in stats.get("by_state", {}).items():
            metrics.JOBS.labels(state).set(n)
        metrics.JOB_OLDEST.set(stats.get("oldest_queued_age_seconds") or 0)
        metrics.WORKERS.set(sum(1 for w in stats.get("workers", []) if not w.get("stale")))
        eng = engines()
        for name, engine in (("write", eng.write), ("read", eng.read)):
            pool = engine.sync_engine.pool
            for kind in ("checkedout", "checkedin", "size", "overflow"):
                fn = getattr(pool, kind, None)
                if callable(fn):
                    metrics.POOL.labels(name, kind).set(fn())

    async def queue_stats(self, session: AsyncSession, ctx: AuthContext) -> dict[str, Any]:
        _require(ctx)
        return await jobs.queue_stats(session)

    async def list_jobs(
        self, session: AsyncSession, ctx: AuthContext, state: jobs.JobState | None, limit: int
    ) -> list[jobs.Job]:
        _require(ctx)
        return await jobs.list_jobs(session, state=state, limit=limit)

    async def replay(self, session: AsyncSession, ctx: AuthContext, job_id: uuid.UUID) -> jobs.Job:
        _require(ctx)
        return await jobs.replay(session, job_id)


def _require(ctx: AuthContext) -> None:
    if not ctx.can(Permission.jobs_manage):
        raise Forbidden()


ops = OpsService()
