"""calendar-feed tokens stored only as their SHA-256 (existing addresses keep working)

Revision ID: 0013_feed_token_hash
Revises: 0012_statement_letterhead
Create Date: 2026-12-03 19:30:00

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_feed_token_hash'
down_revision = '0012_statement_letterhead'
branch_labels = None
depends_on = None

feed = sa.table(
    'calendar_feed',
    sa.column('id', sa.Integer),
    sa.column('token', sa.String),
    sa.column('token_hash', sa.String),
)


def upgrade():
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    # Hash in Python (SQLite has no sha256()); a handful of rows, one per subscribing user.
    for row_id, token in conn.execute(sa.select(feed.c.id, feed.c.token)).all():
        digest = hashlib.sha256(token.encode()).hexdigest()
        conn.execute(feed.update().where(feed.c.id == row_id).values(token_hash=digest))
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_constraint('uq_calendar_feed_token', type_='unique')
        batch_op.drop_column('token')
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_calendar_feed_token_hash'), ['token_hash'])


def downgrade():
    # The tokens cannot be recovered from their hashes: every feed gets a new secret.
    import secrets

    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    for (row_id,) in conn.execute(sa.select(feed.c.id)).all():
        conn.execute(
            feed.update().where(feed.c.id == row_id).values(token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_constraint('uq_calendar_feed_token_hash', type_='unique')
        batch_op.drop_column('token_hash')
        batch_op.alter_column('token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_calendar_feed_token'), ['token'])
