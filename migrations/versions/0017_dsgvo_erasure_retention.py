"""DSGVO: anonymised accounts, mail content retention, history redaction of person names

Revision ID: 0017_dsgvo_erasure_retention
Revises: 0016_cooperation_invitations
Create Date: 2026-12-04 02:00:00

- user_account.anonymised_at: when the platform admin anonymised the account (Art. 17).
- notification_event.content_deleted_at: when the retention run removed what the event's
  mails said (KOOP_MAIL_RETENTION_DAYS), with an index for that run.
- PostgreSQL: the history's append-only trigger lets exactly one thing through: rewriting
  the text columns that name a person (actor_label, record_label, old_value, new_value) in
  a transaction that announced it with ``SET LOCAL koopboard.history_redaction = 'on'``
  (koopboard.history.redact_person). DELETE, and any change of who/when/which record or
  field, is refused as before.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_dsgvo_erasure_retention'
down_revision = '0016_cooperation_invitations'
branch_labels = None
depends_on = None

REDACTING_TRIGGER = """
CREATE OR REPLACE FUNCTION history_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('koopboard.history_redaction', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.created_at = OLD.created_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.cooperation_id IS NOT DISTINCT FROM OLD.cooperation_id
       AND NEW.record_type = OLD.record_type
       AND NEW.record_id = OLD.record_id
       AND NEW.action = OLD.action
       AND NEW.field IS NOT DISTINCT FROM OLD.field
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'history_entry is append-only';
END;
$$ LANGUAGE plpgsql
"""

APPEND_ONLY_TRIGGER = """
CREATE OR REPLACE FUNCTION history_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'history_entry is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('notification_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            'ix_notification_event_retention', ['content_deleted_at', 'created_at'], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(REDACTING_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_TRIGGER)
    with op.batch_alter_table('notification_event', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_event_retention')
        batch_op.drop_column('content_deleted_at')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
