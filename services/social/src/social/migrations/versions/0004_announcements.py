"""announcements: what `social announce` sent, and an index to count its mails in the history

The `announcements` table is new and starts empty. The mail history gets an index on
(event_id, kind, outcome, reason), from which `social announce status` counts an announcement's
mails without reading the table.

Revision ID: 0004_announcements
Revises: 0003_security

"""
import sqlalchemy as sa
from alembic import op

import social.dbtypes

# revision identifiers, used by Alembic.
revision = '0004_announcements'
down_revision = '0003_security'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcements',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('variant_subjects', sa.JSON(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('recipient_batches', sa.Integer(), nullable=False),
    sa.Column('created_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('cancelled_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('mail_history', schema=None) as batch_op:
        batch_op.create_index('ix_mail_history_event_id', ['event_id', 'kind', 'outcome', 'reason'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_history', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_history_event_id')
    op.drop_table('announcements')
