"""boards: boards of an exchange, their columns and cards

Revision ID: 3b7f5e2d9c41
Revises: 8a61f0c2d5e3
Create Date: 2026-12-07 20:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = "3b7f5e2d9c41"
down_revision = "8a61f0c2d5e3"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade():
    op.create_table(
        "board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("former_team_name", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("layout", _enum("board_layout", "shelf", "wall"), nullable=False),
        sa.Column("background", sa.String(length=20), nullable=False),
        sa.Column("who_may_add", _enum("board_who_may_add", "everyone", "teachers"), nullable=False),
        sa.Column("reaction_kind", _enum("board_reaction_kind", "none", "like", "vote", "star"), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_board_created_by_id_user")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_board_project_id_project"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_board_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board")),
    )
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_board_team_id"), ["team_id"], unique=False)

    op.create_table(
        "board_column",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["board_id"], ["board.id"], name=op.f("fk_board_column_board_id_board"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_board_column")),
    )
    with op.batch_alter_table("board_column", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_board_column_board_id"), ["board_id"], unique=False)

    op.create_table(
        "card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("column_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("link_url", sa.String(length=500), nullable=True),
        sa.Column("colour", sa.String(length=20), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Float(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", app.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_card_author_id_user")),
        sa.ForeignKeyConstraint(["board_id"], ["board.id"], name=op.f("fk_card_board_id_board"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["column_id"], ["board_column.id"], name=op.f("fk_card_column_id_board_column"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["upload.id"], name=op.f("fk_card_upload_id_upload"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card")),
    )
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index("ix_card_board_position", ["board_id", "position"], unique=False)
        batch_op.create_index(batch_op.f("ix_card_column_id"), ["column_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_card_author_id"), ["author_id"], unique=False)


def downgrade():
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_author_id"))
        batch_op.drop_index(batch_op.f("ix_card_column_id"))
        batch_op.drop_index("ix_card_board_position")
    op.drop_table("card")
    with op.batch_alter_table("board_column", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_board_column_board_id"))
    op.drop_table("board_column")
    with op.batch_alter_table("board", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_board_team_id"))
        batch_op.drop_index(batch_op.f("ix_board_project_id"))
    op.drop_table("board")
