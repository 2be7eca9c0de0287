"""cost shares keep their rounding reason as data, so pages say it in the reader's language

Revision ID: 0014_share_reason_data
Revises: 0013_feed_token_hash
Create Date: 2026-12-03 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_share_reason_data'
down_revision = '0013_feed_token_hash'
branch_labels = None
depends_on = None


def upgrade():
    # Shares booked before keep their German sentence (explanation) and no data.
    with op.batch_alter_table('cost_share', schema=None) as batch_op:
        batch_op.add_column(sa.Column('explanation_data', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('cost_share', schema=None) as batch_op:
        batch_op.drop_column('explanation_data')
