"""document_chunks: a document's current text in chunks, so a batch rewrites only what it touched

The texts move from ``documents.text`` into ``document_chunks`` (pieces of 2,048 code points, ``ord`` keys
65,536 apart), and the column goes. Downgrade puts the texts back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK_TARGET = 2048  # as scribetree.writing.models at this revision (a migration does not import the app)
ORD_GAP = 1 << 16

documents = sa.table(
    "documents", sa.column("id", sa.Uuid()), sa.column("tenant_id", sa.Uuid()), sa.column("text", sa.Text())
)
chunks = sa.table(
    "document_chunks",
    sa.column("document_id", sa.Uuid()),
    sa.column("ord", sa.Integer()),
    sa.column("text", sa.Text()),
    sa.column("tenant_id", sa.Uuid()),
)


def _pieces(text: str) -> list[tuple[int, str]]:
    starts = range(0, len(text), CHUNK_TARGET) or range(1)
    return [(ORD_GAP * (i + 1), text[k : k + CHUNK_TARGET]) for i, k in enumerate(starts)]


def upgrade() -> None:
    op.create_table(
        "document_chunks",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ord", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_chunks_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "ord", name=op.f("pk_document_chunks")),
    )
    with op.batch_alter_table("document_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_chunks_tenant_id"), ["tenant_id"], unique=False)

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            DO $$ BEGIN
                ALTER TABLE document_chunks ALTER COLUMN text SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported OR undefined_object OR syntax_error THEN NULL;
            END $$;
            """
        )
    for doc_id, tenant_id, text in bind.execute(sa.select(documents.c.id, documents.c.tenant_id, documents.c.text)):
        bind.execute(
            sa.insert(chunks),
            [{"document_id": doc_id, "tenant_id": tenant_id, "ord": o, "text": t} for o, t in _pieces(text or "")],
        )
    # A plain column: SQLite (3.35+) drops it in place, no table copy (a copy of `documents` would cascade).
    op.drop_column("documents", "text")


def downgrade() -> None:
    op.add_column("documents", sa.Column("text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    ordered = sa.select(chunks.c.document_id, chunks.c.text).order_by(chunks.c.document_id, chunks.c.ord)
    texts: dict[object, list[str]] = {}
    for doc_id, text in bind.execute(ordered):
        texts.setdefault(doc_id, []).append(text)
    for doc_id, parts in texts.items():
        bind.execute(sa.update(documents).where(documents.c.id == doc_id).values(text="".join(parts)))
    with op.batch_alter_table("document_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_chunks_tenant_id"))
    op.drop_table("document_chunks")
