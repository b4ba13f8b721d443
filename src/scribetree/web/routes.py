"""All page routers in one, in matching order (specific paths before parameterised ones)."""

from __future__ import annotations

from fastapi import APIRouter

from scribetree.web.admin.routes import router as admin
from scribetree.web.alerts.routes import router as alert_pages
from scribetree.web.courses.routes import router as courses
from scribetree.web.dev.routes import router as dev
from scribetree.web.home.routes import router as home
from scribetree.web.insight.routes import router as insight
from scribetree.web.integrity.routes import router as integrity_pages
from scribetree.web.interventions.routes import router as interventions
from scribetree.web.live.routes import router as live
from scribetree.web.live.routes import ws_router as live_ws
from scribetree.web.ops.routes import router as ops
from scribetree.web.partner.routes import router as partner
from scribetree.web.public.routes import router as public
from scribetree.web.replay.routes import router as replay
from scribetree.web.review.routes import router as review
from scribetree.web.signin.routes import router as signin
from scribetree.web.similarity.routes import router as similarity
from scribetree.web.writing.routes import router as writing

router = APIRouter(include_in_schema=False)
for part in (signin, public, home, admin, courses, live, live_ws, writing, partner, review, ops, dev):
    router.include_router(part)
router.include_router(insight)
router.include_router(interventions)
router.include_router(replay)
router.include_router(integrity_pages)
router.include_router(similarity)
router.include_router(alert_pages)
