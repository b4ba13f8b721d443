"""analytics: per-document metrics with a watermark on the edit log, and daily activity per document and author

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    t = "analytics_document_metrics"
    op.create_table(
        t,
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("wm_revision", sa.Integer(), nullable=False),
        sa.Column("wm_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wm_batch_id", sa.Uuid(), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.Column("chars_inserted", sa.Integer(), nullable=False),
        sa.Column("chars_deleted", sa.Integer(), nullable=False),
        sa.Column("words_added", sa.Integer(), nullable=False),
        sa.Column("words_deleted", sa.Integer(), nullable=False),
        sa.Column("pastes", sa.Integer(), nullable=False),
        sa.Column("pasted_chars", sa.Integer(), nullable=False),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("pause_seconds", sa.Integer(), nullable=False),
        sa.Column("bursts", sa.Integer(), nullable=False),
        sa.Column("longest_burst_chars", sa.Integer(), nullable=False),
        sa.Column("run_chars", sa.Integer(), nullable=False),
        sa.Column("run_counted", sa.Boolean(), nullable=False),
        sa.Column("first_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_words_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_batch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("style_revision", sa.Integer(), nullable=True),
        sa.Column("seen_activity_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        # the large values last: SQLite reads a row's columns in order, so the counters stay off the text's overflow pages
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("style", sa.JSON(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        _fk(t, "assignment_id", "assignments"),
        _fk(t, "course_id", "courses"),
        _fk(t, "document_id", "documents"),
        _fk(t, "tenant_id", "tenants"),
        sa.PrimaryKeyConstraint("document_id", name=op.f(f"pk_{t}")),
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index("ix_analytics_document_metrics_assignment", ["tenant_id", "assignment_id"], unique=False)
        batch_op.create_index("ix_analytics_document_metrics_course", ["tenant_id", "course_id"], unique=False)
        batch_op.create_index(batch_op.f(f"ix_{t}_tenant_id"), ["tenant_id"], unique=False)

    d = "analytics_daily_activity"
    op.create_table(
        d,
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.Column("chars_inserted", sa.Integer(), nullable=False),
        sa.Column("chars_deleted", sa.Integer(), nullable=False),
        sa.Column("words_added", sa.Integer(), nullable=False),
        sa.Column("words_deleted", sa.Integer(), nullable=False),
        sa.Column("word_delta", sa.Integer(), nullable=False),
        sa.Column("pastes", sa.Integer(), nullable=False),
        sa.Column("pasted_chars", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _fk(d, "assignment_id", "assignments"),
        _fk(d, "course_id", "courses"),
        _fk(d, "document_id", "documents"),
        _fk(d, "tenant_id", "tenants"),
        _fk(d, "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{d}")),
        sa.UniqueConstraint(
            "tenant_id", "document_id", "user_id", "day", name=op.f(f"uq_{d}_tenant_id_document_id_user_id_day")
        ),
    )
    with op.batch_alter_table(d, schema=None) as batch_op:
        batch_op.create_index("ix_analytics_daily_activity_course_day", ["tenant_id", "course_id", "day"], unique=False)
        batch_op.create_index(
            "ix_analytics_daily_activity_course_user", ["tenant_id", "course_id", "user_id", "day"], unique=False
        )
        batch_op.create_index(batch_op.f(f"ix_{d}_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("analytics_daily_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_daily_activity_tenant_id"))
        batch_op.drop_index("ix_analytics_daily_activity_course_user")
        batch_op.drop_index("ix_analytics_daily_activity_course_day")
    op.drop_table("analytics_daily_activity")
    with op.batch_alter_table("analytics_document_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_document_metrics_tenant_id"))
        batch_op.drop_index("ix_analytics_document_metrics_course")
        batch_op.drop_index("ix_analytics_document_metrics_assignment")
    op.drop_table("analytics_document_metrics")
