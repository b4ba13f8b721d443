"""integrity: cached evidence reports per submission, students' responses to flags, educators' outcomes, the
per-assignment setting of what students see before they submit

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "integrity_settings",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("students_see_before_submission", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_integrity_settings_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_integrity_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_integrity_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_settings")),
        sa.UniqueConstraint("tenant_id", "assignment_id", name=op.f("uq_integrity_settings_tenant_id_assignment_id")),
    )
    with op.batch_alter_table("integrity_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_integrity_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "integrity_outcomes",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_integrity_outcomes_recorded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_integrity_outcomes_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_integrity_outcomes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_outcomes")),
    )
    with op.batch_alter_table("integrity_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integrity_outcomes_submission", ["tenant_id", "submission_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integrity_outcomes_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "integrity_reports",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("student_user_id", sa.Uuid(), nullable=True),
        sa.Column("algorithm", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("flag_codes", sa.JSON(), nullable=False),
        sa.Column("final_chars", sa.Integer(), nullable=False),
        sa.Column("final_words", sa.Integer(), nullable=False),
        sa.Column("typed_share", sa.Float(), nullable=False),
        sa.Column("external_paste_share", sa.Float(), nullable=False),
        sa.Column("revision_ratio", sa.Float(), nullable=False),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_integrity_reports_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_integrity_reports_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_user_id"],
            ["users.id"],
            name=op.f("fk_integrity_reports_student_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_integrity_reports_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_integrity_reports_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_reports")),
        sa.UniqueConstraint("tenant_id", "submission_id", name=op.f("uq_integrity_reports_tenant_id_submission_id")),
    )
    with op.batch_alter_table("integrity_reports", schema=None) as batch_op:
        batch_op.create_index("ix_integrity_reports_assignment", ["tenant_id", "assignment_id"], unique=False)
        batch_op.create_index("ix_integrity_reports_student", ["tenant_id", "student_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_integrity_reports_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "integrity_responses",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("flag_code", sa.String(length=60), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_integrity_responses_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_integrity_responses_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_integrity_responses_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_responses")),
    )
    with op.batch_alter_table("integrity_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integrity_responses_submission", ["tenant_id", "submission_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_integrity_responses_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("integrity_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_responses_tenant_id"))
        batch_op.drop_index("ix_integrity_responses_submission")

    op.drop_table("integrity_responses")

    with op.batch_alter_table("integrity_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_reports_tenant_id"))
        batch_op.drop_index("ix_integrity_reports_student")
        batch_op.drop_index("ix_integrity_reports_assignment")

    op.drop_table("integrity_reports")

    with op.batch_alter_table("integrity_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_outcomes_tenant_id"))
        batch_op.drop_index("ix_integrity_outcomes_submission")

    op.drop_table("integrity_outcomes")

    with op.batch_alter_table("integrity_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integrity_settings_tenant_id"))

    op.drop_table("integrity_settings")
