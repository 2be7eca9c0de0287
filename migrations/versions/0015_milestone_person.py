"""a milestone may name a responsible person of its responsible municipality

Revision ID: 0015_milestone_person
Revises: 0014_share_reason_data
Create Date: 2026-12-04 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_milestone_person'
down_revision = '0014_share_reason_data'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_person_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_milestone_responsible_person_id'), ['responsible_person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_milestone_responsible_person_id_user_account'), 'user_account', ['responsible_person_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_milestone_responsible_person_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_milestone_responsible_person_id'))
        batch_op.drop_column('responsible_person_id')
