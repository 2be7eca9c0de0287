"""join requests from the Kooperationsbörse (one open request per municipality)

Revision ID: 0010_join_requests
Revises: 0009_cooperation_listing
Create Date: 2026-12-03 19:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_join_requests'
down_revision = '0009_cooperation_listing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperation_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('intended_join_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('offen', 'angenommen', 'abgelehnt', 'zurueckgezogen', name='join_request_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('council_resolution_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['cooperation_id'], ['cooperation.id'], name=op.f('fk_join_request_cooperation_id_cooperation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_join_request_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_join_request_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_join_request_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_request'))
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index('ix_join_request_cooperation_status', ['cooperation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index('uq_join_request_open', ['cooperation_id', 'municipality_id'], unique=True, postgresql_where=sa.text("status = 'offen'"), sqlite_where=sa.text("status = 'offen'"))


def downgrade():
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.drop_index('uq_join_request_open')
        batch_op.drop_index(batch_op.f('ix_join_request_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_join_request_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_join_request_decided_by_id'))
        batch_op.drop_index('ix_join_request_cooperation_status')
    op.drop_table('join_request')
