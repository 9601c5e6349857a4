"""class vocational field from the ISCED-F list

Revision ID: 1550d65d8719
Revises: 03ede5bccbe2
Create Date: 2026-12-07 15:30:00.000000

A class's field is chosen once, from ISCED-F 2013, and its partner profile takes it from
there. Existing classes get the code their partner profile already had (chosen from the
list); a class without a profile gets the field its free text names exactly or nearly;
any other keeps only its text, shown until its teacher picks a field.
"""
from alembic import op
import sqlalchemy as sa

from app.core.isced import match_field


# revision identifiers, used by Alembic.
revision = '1550d65d8719'
down_revision = '03ede5bccbe2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('isced_code', sa.String(length=4), nullable=True))

    school_class = sa.table(
        'school_class', sa.column('id', sa.Integer), sa.column('vocational_field', sa.String), sa.column('isced_code', sa.String)
    )
    class_profile = sa.table('class_profile', sa.column('class_id', sa.Integer), sa.column('isced_code', sa.String))
    connection = op.get_bind()
    from_profiles = dict(connection.execute(sa.select(class_profile.c.class_id, class_profile.c.isced_code)).all())
    for class_id, text in connection.execute(sa.select(school_class.c.id, school_class.c.vocational_field)).all():
        code = from_profiles.get(class_id) or match_field(text)
        if code:
            connection.execute(school_class.update().where(school_class.c.id == class_id).values(isced_code=code))


def downgrade():
    with op.batch_alter_table('school_class', schema=None) as batch_op:
        batch_op.drop_column('isced_code')
