"""mail: confirmed addresses, preferences, unsubscribe salts, mail links and mail history

Existing accounts keep working and stay unconfirmed; each gets its own unsubscribe salt, and
none has chosen how to hear of new followers (`follow_notices` NULL: FOLLOW_NOTICE_DEFAULT).

Revision ID: 0002_mail
Revises: 0001_initial

"""
import secrets

from alembic import op
import sqlalchemy as sa

import social.dbtypes


# revision identifiers, used by Alembic.
revision = '0002_mail'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('password_changed_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_confirmed_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('email_bounced_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_bounce_reply', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('profile_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('follow_notices', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('announcements', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False))
        batch_op.add_column(sa.Column('digest_hour', sa.SmallInteger(), server_default='8', nullable=False))
        batch_op.add_column(sa.Column('quiet_hours_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_hours_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('unsubscribe_salt', sa.String(length=32), nullable=True))

    # Every existing account gets a salt of its own, then the column becomes required.
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('unsubscribe_salt', sa.String))
    connection = op.get_bind()
    ids = [row.id for row in connection.execute(sa.select(users.c.id).where(users.c.unsubscribe_salt.is_(None)))]
    for start in range(0, len(ids), 1000):
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(unsubscribe_salt=sa.bindparam('salt')),
            [{'user_id': user_id, 'salt': secrets.token_hex(16)} for user_id in ids[start:start + 1000]],
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('unsubscribe_salt', existing_type=sa.String(length=32), nullable=False)

    op.create_table('mail_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('created_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_mail_tokens_token_hash'))
    )
    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('mail_history',
    sa.Column('id', sa.String(length=300), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('merged_into_at', social.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_history'))
    )
    with op.batch_alter_table('mail_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_history_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_history_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_history_user_id'))
        batch_op.drop_index(batch_op.f('ix_mail_history_at'))

    op.drop_table('mail_history')
    with op.batch_alter_table('mail_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_tokens_user_id'))

    op.drop_table('mail_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe_salt')
        batch_op.drop_column('quiet_hours_end')
        batch_op.drop_column('quiet_hours_start')
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('announcements')
        batch_op.drop_column('follow_notices')
        batch_op.drop_column('profile_version')
        batch_op.drop_column('email_bounce_reply')
        batch_op.drop_column('email_bounced_at')
        batch_op.drop_column('pending_email')
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('password_changed_at')
