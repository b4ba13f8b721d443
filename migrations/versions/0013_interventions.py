"""interventions: per-student deadline extensions (courses), AI budget overrides (ai_partner), interventions (alerts)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_budget_overrides",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("budget_per_hour", sa.Integer(), nullable=False),
        sa.Column("budget_per_day", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_ai_budget_overrides_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_ai_budget_overrides_granted_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ai_budget_overrides_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ai_budget_overrides_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_budget_overrides")),
        sa.UniqueConstraint(
            "tenant_id", "assignment_id", "user_id", name=op.f("uq_ai_budget_overrides_tenant_id_assignment_id_user_id")
        ),
    )

    with op.batch_alter_table("ai_budget_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_budget_overrides_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "deadline_extensions",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("stage_key", sa.String(length=50), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_deadline_extensions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["users.id"], name=op.f("fk_deadline_extensions_granted_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_deadline_extensions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_deadline_extensions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_extensions")),
        sa.UniqueConstraint(
            "tenant_id",
            "assignment_id",
            "user_id",
            "stage_key",
            name=op.f("uq_deadline_extensions_tenant_id_assignment_id_user_id_stage_key"),
        ),
    )

    with op.batch_alter_table("deadline_extensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadline_extensions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "interventions",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("student_user_id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("assignment_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_interventions_alert_id_alerts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_interventions_assignment_id_assignments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_interventions_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_interventions_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_by"], ["users.id"], name=op.f("fk_interventions_outcome_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["student_user_id"], ["users.id"], name=op.f("fk_interventions_student_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_interventions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interventions")),
    )

    with op.batch_alter_table("interventions", schema=None) as batch_op:
        batch_op.create_index("ix_interventions_alert", ["tenant_id", "alert_id"], unique=False)
        batch_op.create_index("ix_interventions_course", ["tenant_id", "course_id", "created_at"], unique=False)
        batch_op.create_index("ix_interventions_student", ["tenant_id", "student_user_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_interventions_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interventions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interventions_tenant_id"))
        batch_op.drop_index("ix_interventions_student")
        batch_op.drop_index("ix_interventions_course")
        batch_op.drop_index("ix_interventions_alert")

    op.drop_table("interventions")

    with op.batch_alter_table("deadline_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_extensions_tenant_id"))

    op.drop_table("deadline_extensions")

    with op.batch_alter_table("ai_budget_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_budget_overrides_tenant_id"))

    op.drop_table("ai_budget_overrides")
