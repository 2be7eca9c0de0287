"""the Kooperations-Check: versioned answers per municipality

Revision ID: 0011_koop_check
Revises: 0010_join_requests
Create Date: 2026-12-03 19:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_koop_check'
down_revision = '0010_join_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('koop_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('ready', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_koop_check_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_koop_check_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_koop_check')),
    sa.UniqueConstraint('municipality_id', 'version', name='uq_koop_check_version')
    )
    with op.batch_alter_table('koop_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_koop_check_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_koop_check_municipality_id'), ['municipality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('koop_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_koop_check_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_koop_check_author_id'))
    op.drop_table('koop_check')
