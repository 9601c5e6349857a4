"""project themes and weekly slots

Revision ID: 740641903579
Revises: 521a0fe47493
Create Date: 2026-12-07 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '740641903579'
down_revision = '521a0fe47493'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('themes', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('weekly_slots', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('slot_zone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('slot_zone')
        batch_op.drop_column('weekly_slots')
        batch_op.drop_column('themes')
