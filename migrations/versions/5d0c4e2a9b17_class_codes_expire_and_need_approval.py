"""class codes expire, and pupils who join with one wait for the teacher's approval

Revision ID: 5d0c4e2a9b17
Revises: 1550d65d8719
Create Date: 2026-12-07 18:40:00.000000

Every class code gets an end of validity. Codes that exist at the upgrade keep working for
a fresh week counted from the upgrade (DEFAULT_JOIN_CODE_DAYS), so no lesson planned for
tomorrow finds its code dead; after that their teachers renew them. Existing codes need the
teacher's approval from now on (the new default); pupils already in a class stay members.
"""

from datetime import timedelta

from alembic import op
import sqlalchemy as sa

import app.core.db
from app.core.db import utcnow


# revision identifiers, used by Alembic.
revision = '5d0c4e2a9b17'
down_revision = '1550d65d8719'
branch_labels = None
depends_on = None

UPGRADE_VALIDITY = timedelta(days=7)


def upgrade():
    with op.batch_alter_table('school_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('join_code_expires_at', app.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('join_code_needs_approval', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    school_class = sa.table('school_class', sa.column('join_code_expires_at', app.core.db.UTCDateTime()))
    op.get_bind().execute(school_class.update().values(join_code_expires_at=utcnow() + UPGRADE_VALIDITY))
    with op.batch_alter_table('school_class', schema=None) as batch_op:
        batch_op.alter_column('join_code_expires_at', existing_type=app.core.db.UTCDateTime(), nullable=False)

    op.create_table(
        'class_join_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('class_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', app.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['class_id'], ['school_class.id'], name=op.f('fk_class_join_request_class_id_school_class'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['student_id'], ['user.id'], name=op.f('fk_class_join_request_student_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_class_join_request')),
        sa.UniqueConstraint('student_id', name=op.f('uq_class_join_request_student_id')),
    )
    with op.batch_alter_table('class_join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_join_request_class_id'), ['class_id'], unique=False)


def downgrade():
    with op.batch_alter_table('class_join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_join_request_class_id'))
    op.drop_table('class_join_request')
    with op.batch_alter_table('school_class', schema=None) as batch_op:
        batch_op.drop_column('join_code_needs_approval')
        batch_op.drop_column('join_code_expires_at')
