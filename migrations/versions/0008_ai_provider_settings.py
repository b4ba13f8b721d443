"""ai_partner: the institution's AI provider settings (one row per tenant; the API key stored encrypted)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_provider_settings",
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("external_allowed", sa.Boolean(), nullable=False),
        sa.Column("api_key_encrypted", sa.Text(), nullable=True),
        sa.Column("api_key_last4", sa.String(length=4), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ai_provider_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_ai_provider_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_provider_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_ai_provider_settings_tenant_id")),
    )
    with op.batch_alter_table("ai_provider_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_provider_settings_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ai_provider_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_provider_settings_tenant_id"))
    op.drop_table("ai_provider_settings")
