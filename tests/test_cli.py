"""The `scribetree` command, run as a real process against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import select, text

from scribetree.core.audit import AuditEvent
from scribetree.core.config import settings
from scribetree.courses.models import Assignment, Course, CourseMember
from scribetree.tenancy.models import Membership, Tenant
from scribetree.writing.models import Document
from tests.factories.tenancy import PASSWORD, create_member


def cli(database_url: str, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()}
    base.update({"SCRIBETREE_DATABASE_URL": database_url, "SCRIBETREE_DATA_DIR": str(settings.DATA_DIR), **env})
    return subprocess.run(
        [sys.executable, "-m", "scribetree.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=base,
        timeout=120,
    )


class TestCli:
    def test_help_explains_the_commands(self, database_url):
        r = cli(database_url, "--help")
        assert r.returncode == 0
        for word in ("init", "serve", "worker", "demo", "tenant", "user", "audit"):
            assert word in r.stdout

    async def test_demo_is_idempotent_and_prints_sign_ins(self, database_url, session):
        first = cli(database_url, "demo")
        assert first.returncode == 0, first.stderr
        assert (
            "admin@maplewood.example.edu" in first.stdout and settings.DEMO_PASSWORD.get_secret_value() in first.stdout
        )
        second = cli(database_url, "demo")
        assert second.returncode == 0 and "0 new people" in second.stdout
        tenants = (await session.execute(select(Tenant).where(Tenant.slug == "demo"))).scalars().all()
        assert len(tenants) == 1 and tenants[0].is_demo
        members = (await session.execute(select(Membership).where(Membership.tenant_id == tenants[0].id))).scalars()
        roles = [m.role for m in members]
        assert roles.count("institution_admin") == 1 and roles.count("educator") == 2 and roles.count("student") == 12
        accounts = json.loads((settings.DATA_DIR / "demo-accounts.json").read_text())
        assert len(accounts) == 17
        # one course (not two after the second run), everyone enrolled, a published assignment, one draft started
        courses = (await session.execute(select(Course).where(Course.tenant_id == tenants[0].id))).scalars().all()
        assert [c.title for c in courses] == ["ENG 101: Academic Writing"]
        enrolled = (await session.execute(select(CourseMember.role).where(CourseMember.course_id == courses[0].id)))
        enrolled_roles = list(enrolled.scalars())
        assert enrolled_roles.count("student") == 12 and enrolled_roles.count("instructor") == 1
        assert enrolled_roles.count("ta") == 1
        # the essay (the course also holds the two earlier assignments of the demo's writing history)
        essay_title = "Argument essay: AI literacy in schools"
        in_course = select(Assignment).where(Assignment.course_id == courses[0].id)
        essay = (await session.execute(in_course.where(Assignment.title == essay_title))).scalar_one()
        assert essay.published_at is not None and essay.rubric and len(essay.stages) == 5
        doc = (await session.execute(select(Document).where(Document.assignment_id == essay.id))).scalar_one()
        assert doc.revision == 1 and doc.text.startswith("Artificial intelligence") and doc.word_count > 20

    def test_demo_is_refused_in_production(self, database_url):
        r = cli(
            database_url,
            "demo",
            SCRIBETREE_ENV="production",
            SCRIBETREE_SECRET_KEY="x" * 40,
            SCRIBETREE_SMTP_HOST="smtp.example.org",
        )
        assert r.returncode != 0

    async def test_tenant_and_user_create(self, database_url, session):
        r = cli(database_url, "tenant", "create", "--slug", "ridgeway", "--name", "Ridgeway College", "--activate")
        assert r.returncode == 0, r.stderr
        r = cli(
            database_url,
            "user",
            "create",
            "--email",
            "t@ridgeway.example.edu",
            "--name",
            "T",
            "--tenant",
            "ridgeway",
            "--role",
            "educator",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        assert r.returncode == 0, r.stderr
        r = cli(database_url, "tenant", "create", "--slug", "ridgeway", "--name", "Again")
        assert r.returncode == 1 and "already uses" in r.stderr
        r = cli(database_url, "tenant", "create", "--slug", "Not OK", "--name", "x")
        assert r.returncode == 1 and "slug" in r.stderr

    async def test_audit_verify_pinpoints_the_altered_row(self, database_url, session, anon, tenant):
        user, _ = await create_member(session, tenant)
        await session.commit()
        for pw in ("wrong password 1", "wrong password 2", PASSWORD):
            await anon.post(f"/api/v1/tenants/{tenant.slug}/session", json={"email": user.email, "password": pw})
        ok = cli(database_url, "audit", "verify")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert f"chain {tenant.id}: 3 entries intact" in ok.stdout
        target = (
            await session.execute(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id, AuditEvent.seq == 2))
        ).scalar_one()
        await session.execute(
            text("UPDATE audit_events SET actor_label = 'someone-else@example.edu' WHERE id = :id"),
            {"id": target.id.hex if database_url.startswith("sqlite") else target.id},
        )
        await session.commit()
        bad = cli(database_url, "audit", "verify", "--tenant", tenant.slug)
        assert bad.returncode == 1
        assert "BROKEN" in bad.stdout and "entry 2 was altered" in bad.stdout and str(target.id) in bad.stdout
