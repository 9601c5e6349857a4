"""a class may let partner schools see its pupils' first names

Revision ID: 03ede5bccbe2
Revises: b7e3d91c4a52
Create Date: 2026-12-07 15:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "03ede5bccbe2"
down_revision = "b7e3d91c4a52"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("school_class", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("partners_see_first_names", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("school_class", schema=None) as batch_op:
        batch_op.drop_column("partners_see_first_names")
