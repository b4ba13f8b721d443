"""integrity: similarity fingerprints (winnowing), the matches found when a submission is indexed, the
per-submission index state and the institution's consent to compare across courses

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 04:20:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _record() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
    ]


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "similarity_submissions",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("window", sa.Integer(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("fingerprint_count", sa.Integer(), nullable=False),
        sa.Column("quoted_chars", sa.Integer(), nullable=False),
        sa.Column("cross_course", sa.Boolean(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        *_record(),
        *_tenant("similarity_submissions"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_submissions_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_similarity_submissions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name=op.f("fk_similarity_submissions_assignment_id_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_similarity_submissions_course_id_courses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_similarity_submissions_author_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_submissions")),
        sa.UniqueConstraint(
            "tenant_id", "submission_id", name=op.f("uq_similarity_submissions_tenant_id_submission_id")
        ),
    )
    with op.batch_alter_table("similarity_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_similarity_submissions_course", ["tenant_id", "course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_similarity_submissions_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "similarity_fingerprints",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("hash", sa.BigInteger(), nullable=False),
        sa.Column("quoted", sa.Boolean(), nullable=False),
        *_tenant("similarity_fingerprints"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_fingerprints_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "start", name=op.f("pk_similarity_fingerprints")),
    )
    with op.batch_alter_table("similarity_fingerprints", schema=None) as batch_op:
        # (tenant_id, hash) leads with the tenant: no single-column tenant index (without statistics PostgreSQL
        # preferred it for ``tenant_id = ? AND hash IN (...)`` and read every fingerprint of the institution)
        batch_op.create_index("ix_similarity_fingerprints_hash", ["tenant_id", "hash"], unique=False)

    op.create_table(
        "similarity_matches",
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("other_submission_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("shared_fingerprints", sa.Integer(), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("other_chars", sa.Integer(), nullable=False),
        sa.Column("quoted_chars", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("other_share", sa.Float(), nullable=False),
        sa.Column("passages", sa.JSON(), nullable=False),
        *_record(),
        *_tenant("similarity_matches"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_matches_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_submission_id"],
            ["submissions.id"],
            name=op.f("fk_similarity_matches_other_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_matches")),
        sa.UniqueConstraint(
            "tenant_id",
            "submission_id",
            "other_submission_id",
            name=op.f("uq_similarity_matches_tenant_id_submission_id_other_submission_id"),
        ),
    )
    with op.batch_alter_table("similarity_matches", schema=None) as batch_op:
        batch_op.create_index("ix_similarity_matches_other", ["tenant_id", "other_submission_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_similarity_matches_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "similarity_settings",
        sa.Column("cross_course", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_record(),
        *_tenant("similarity_settings"),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_similarity_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_similarity_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_similarity_settings_tenant_id")),
    )
    with op.batch_alter_table("similarity_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_similarity_settings_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    for table in ("similarity_settings", "similarity_matches", "similarity_submissions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
    op.drop_index("ix_similarity_matches_other", table_name="similarity_matches")
    op.drop_index("ix_similarity_fingerprints_hash", table_name="similarity_fingerprints")
    op.drop_index("ix_similarity_submissions_course", table_name="similarity_submissions")
    op.drop_table("similarity_settings")
    op.drop_table("similarity_matches")
    op.drop_table("similarity_fingerprints")
    op.drop_table("similarity_submissions")
