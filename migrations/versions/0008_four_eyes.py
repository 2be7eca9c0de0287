"""four-eyes: who last chose a cost's (or recurring template's) amount, key or payer;
that person and the creator never approve it (backfilled from the creator)

Revision ID: 0008_four_eyes
Revises: 0007_register_geo
Create Date: 2026-12-03 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_four_eyes'
down_revision = '0007_register_geo'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('cost', 'recurring_cost'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('amount_set_by_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_amount_set_by_id'), ['amount_set_by_id'], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_amount_set_by_id_user_account'), 'user_account',
                ['amount_set_by_id'], ['id'], ondelete='SET NULL',
            )
        op.execute(f'UPDATE {table} SET amount_set_by_id = created_by_id')
    # A recurring draft's amount was chosen by its template's author.
    op.execute(
        'UPDATE cost SET amount_set_by_id = (SELECT r.created_by_id FROM recurring_cost r '
        'WHERE r.id = cost.recurring_id) WHERE recurring_id IS NOT NULL AND amount_set_by_id IS NULL'
    )
    # Rows that break the rule already (approved by their author) stay as history; the
    # constraints guard every approval from now on.
    op.execute(
        'UPDATE cost SET amount_set_by_id = NULL WHERE approved_by_id IS NOT NULL '
        'AND approved_by_id = amount_set_by_id'
    )
    with op.batch_alter_table('cost', schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f('ck_cost_four_eyes_creator'),
            'approved_by_id IS NULL OR created_by_id IS NULL OR approved_by_id <> created_by_id',
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_cost_four_eyes_amount'),
            'approved_by_id IS NULL OR amount_set_by_id IS NULL OR approved_by_id <> amount_set_by_id',
        )


def downgrade():
    with op.batch_alter_table('cost', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cost_four_eyes_amount'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cost_four_eyes_creator'), type_='check')
    for table in ('recurring_cost', 'cost'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_amount_set_by_id_user_account'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_amount_set_by_id'))
            batch_op.drop_column('amount_set_by_id')
