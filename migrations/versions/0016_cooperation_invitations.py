"""invitations into a cooperation with a role (by address; account links of purpose "coop")

Revision ID: 0016_cooperation_invitations
Revises: 0015_milestone_person
Create Date: 2026-12-04 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_cooperation_invitations'
down_revision = '0015_milestone_person'
branch_labels = None
depends_on = None

ROLES = ('lead', 'treasurer', 'member', 'observer')
STATUSES = ('offen', 'angenommen', 'abgelehnt', 'zurueckgezogen', 'ersetzt')


def upgrade():
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_token_purpose_known'), type_='check')
        batch_op.create_check_constraint('purpose_known', "purpose IN ('invite', 'reset', 'coop')")

    op.create_table('cooperation_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperation_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.Enum(*ROLES, name='invitation_role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='invitation_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('account_token_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_token_id'], ['account_token.id'], name=op.f('fk_cooperation_invitation_account_token_id_account_token'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cooperation_id'], ['cooperation.id'], name=op.f('fk_cooperation_invitation_cooperation_id_cooperation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_cooperation_invitation_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], name=op.f('fk_cooperation_invitation_invited_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_cooperation_invitation_municipality_id_municipality'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperation_invitation')),
    sa.UniqueConstraint('account_token_id', name=op.f('uq_cooperation_invitation_account_token_id'))
    )
    with op.batch_alter_table('cooperation_invitation', schema=None) as batch_op:
        batch_op.create_index('ix_cooperation_invitation_cooperation_status', ['cooperation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperation_invitation_decided_by_id'), ['decided_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperation_invitation_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperation_invitation_invited_by_id'), ['invited_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cooperation_invitation_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('uq_cooperation_invitation_open', ['cooperation_id', 'email'], unique=True, postgresql_where=sa.text("status = 'offen'"), sqlite_where=sa.text("status = 'offen'"))


def downgrade():
    with op.batch_alter_table('cooperation_invitation', schema=None) as batch_op:
        batch_op.drop_index('uq_cooperation_invitation_open')
        batch_op.drop_index(batch_op.f('ix_cooperation_invitation_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_cooperation_invitation_invited_by_id'))
        batch_op.drop_index(batch_op.f('ix_cooperation_invitation_email'))
        batch_op.drop_index(batch_op.f('ix_cooperation_invitation_decided_by_id'))
        batch_op.drop_index('ix_cooperation_invitation_cooperation_status')
    op.drop_table('cooperation_invitation')
    op.execute("DELETE FROM account_token WHERE purpose = 'coop'")
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_account_token_purpose_known'), type_='check')
        batch_op.create_check_constraint('purpose_known', "purpose IN ('invite', 'reset')")
