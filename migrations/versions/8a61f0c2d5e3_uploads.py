"""uploads: one row per stored file, shared by the modules that hold files

Revision ID: 8a61f0c2d5e3
Revises: 5d0c4e2a9b17
Create Date: 2026-12-07 19:45:00.000000
"""

from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = "8a61f0c2d5e3"
down_revision = "5d0c4e2a9b17"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=43), nullable=False),
        sa.Column("owner_kind", sa.String(length=40), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_upload_project_id_project")),
        sa.ForeignKeyConstraint(["uploader_id"], ["user.id"], name=op.f("fk_upload_uploader_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload")),
        sa.UniqueConstraint("token", name=op.f("uq_upload_token")),
    )
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.create_index("ix_upload_owner", ["owner_kind", "owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_uploader_id"), ["uploader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_created_at"))
        batch_op.drop_index(batch_op.f("ix_upload_uploader_id"))
        batch_op.drop_index(batch_op.f("ix_upload_project_id"))
        batch_op.drop_index("ix_upload_owner")
    op.drop_table("upload")
