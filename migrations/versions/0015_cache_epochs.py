"""cache_epochs: one counter per in-process cache (sign-in, edit access), bumped with every change it depends on

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    epochs = op.create_table(
        "cache_epochs",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_epochs")),
    )
    op.bulk_insert(epochs, [{"name": "auth", "epoch": 0}, {"name": "edit_access", "epoch": 0}])


def downgrade() -> None:
    op.drop_table("cache_epochs")
