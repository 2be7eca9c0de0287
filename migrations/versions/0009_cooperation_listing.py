"""what a cooperation publishes to the Kooperationsbörse (visibility, summary, seeking)

Revision ID: 0009_cooperation_listing
Revises: 0008_four_eyes
Create Date: 2026-12-03 19:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_cooperation_listing'
down_revision = '0008_four_eyes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cooperation_listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cooperation_id', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.Enum('intern', 'plattform', 'oeffentlich', name='listing_visibility', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('seeking_partners', sa.Boolean(), nullable=False),
    sa.Column('seeking_kreis', sa.String(length=200), nullable=True),
    sa.Column('seeking_radius_km', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperation_id'], ['cooperation.id'], name=op.f('fk_cooperation_listing_cooperation_id_cooperation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cooperation_listing')),
    sa.UniqueConstraint('cooperation_id', name=op.f('uq_cooperation_listing_cooperation_id'))
    )
    with op.batch_alter_table('cooperation_listing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cooperation_listing_visibility'), ['visibility'], unique=False)


def downgrade():
    with op.batch_alter_table('cooperation_listing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cooperation_listing_visibility'))
    op.drop_table('cooperation_listing')
