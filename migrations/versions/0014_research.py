"""research: the institution's research consent (research_settings) and the research query log

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 05:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "research_settings",
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("k_min", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_research_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_research_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_research_settings_tenant_id")),
    )
    with op.batch_alter_table("research_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_research_settings_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "research_query_log",
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("query", sa.String(length=80), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("suppressed", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_research_query_log_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_research_query_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_query_log")),
    )
    with op.batch_alter_table("research_query_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_research_query_log_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("research_query_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_research_query_log_tenant_id"))
    op.drop_table("research_query_log")
    with op.batch_alter_table("research_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_research_settings_tenant_id"))
    op.drop_table("research_settings")
