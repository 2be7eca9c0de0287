"""statements a Kämmerei can send: letterhead and bank details per municipality, due date
and Kassenzeichen per cooperation and budget year

Revision ID: 0012_statement_letterhead
Revises: 0011_koop_check
Create Date: 2026-12-03 19:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_statement_letterhead'
down_revision = '0011_koop_check'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('letter_address', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('letter_contact', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('iban', sa.String(length=34), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bic', sa.String(length=11), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_name', sa.String(length=200), server_default='', nullable=False))
    op.create_table('statement_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperation_id', sa.Integer(), nullable=False),
    sa.Column('budget_year', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cooperation_id'], ['cooperation.id'], name=op.f('fk_statement_terms_cooperation_id_cooperation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_terms')),
    sa.UniqueConstraint('cooperation_id', 'budget_year', name='uq_statement_terms')
    )
    with op.batch_alter_table('statement_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_terms_cooperation_id'), ['cooperation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('statement_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_terms_cooperation_id'))
    op.drop_table('statement_terms')
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        for column in ('bank_name', 'bic', 'iban', 'letter_contact', 'letter_address'):
            batch_op.drop_column(column)
