"""register centre coordinates and Gemeindeverband key per municipality; the register's
joint administrations (Satzart 50) as read-only directory entries

Revision ID: 0007_register_geo
Revises: 0006_cost_balances
Create Date: 2026-12-03 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_register_geo'
down_revision = '0006_cost_balances'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breitengrad', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('laengengrad', sa.Numeric(precision=9, scale=6), nullable=True))
        batch_op.add_column(sa.Column('verband', sa.String(length=9), nullable=True))
        batch_op.create_index('ix_municipality_verband', ['verband'], unique=False)

    op.create_table('register_association',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ars', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('textkennzeichen', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('land', sa.String(length=60), nullable=False),
    sa.Column('kreis', sa.String(length=200), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('member_names', sa.Text(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('population_date', sa.Date(), nullable=True),
    sa.Column('breitengrad', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('laengengrad', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('register_date', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_association')),
    sa.UniqueConstraint('ars', name=op.f('uq_register_association_ars'))
    )
    with op.batch_alter_table('register_association', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_association_kreis'), ['kreis'], unique=False)
        batch_op.create_index(batch_op.f('ix_register_association_land'), ['land'], unique=False)


def downgrade():
    with op.batch_alter_table('register_association', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_register_association_land'))
        batch_op.drop_index(batch_op.f('ix_register_association_kreis'))
    op.drop_table('register_association')

    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_index('ix_municipality_verband')
        batch_op.drop_column('verband')
        batch_op.drop_column('laengengrad')
        batch_op.drop_column('breitengrad')
