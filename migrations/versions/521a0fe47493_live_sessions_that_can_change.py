"""live sessions that can change: description, weekly series, .ics sequence, cancellation

Revision ID: 521a0fe47493
Revises: 4faf24b1e79d
Create Date: 2026-12-07 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.core.db


# revision identifiers, used by Alembic.
revision = '521a0fe47493'
down_revision = '4faf24b1e79d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('series_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cancelled_at', app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_live_session_series_id'), ['series_id'], unique=False)


def downgrade():
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_series_id'))
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('sequence')
        batch_op.drop_column('series_id')
        batch_op.drop_column('description')
