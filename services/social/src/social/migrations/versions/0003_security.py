"""security: login sessions, shared rate limit counters, look-alike nickname keys, a hideable
"last seen", and what the outbox keeps of people

Existing accounts keep working. Each gets the key its nickname looks like (UTS #39 skeleton); of
accounts whose nicknames look alike, the oldest gets it and the others keep none, and each such
pair is reported (`nickname_looks_like_another`) so an operator can ask one to rename. Sessions
from before this version end (cookies held a user id; they now hold a session's token). Every
existing outbox event gets the users it is about, so a deleted user's events can be found.

Revision ID: 0003_security
Revises: 0002_mail

"""
import json

import sqlalchemy as sa
import structlog
from alembic import op

import social.dbtypes
from social.nicknames import nickname_skeleton

# revision identifiers, used by Alembic.
revision = '0003_security'
down_revision = '0002_mail'
branch_labels = None
depends_on = None

log = structlog.get_logger("social.migrations")


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # On SQLite, AUTOINCREMENT keeps a deleted user's id from being given again (a table option,
    # so the table is rebuilt); PostgreSQL's sequences never reuse one.
    with op.batch_alter_table('users', schema=None, recreate='always' if sqlite else 'auto',
                              table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.add_column(sa.Column('nickname_skeleton', sa.String(length=384), nullable=True))
        batch_op.add_column(sa.Column('show_last_seen', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_users_nickname_skeleton'), ['nickname_skeleton'])
    _fill_skeletons(op.get_bind())

    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits'))
    )
    with op.batch_alter_table('rate_limits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limits_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redaction', sa.String(length=16), nullable=True))
    op.create_table('outbox_subjects',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'user_id', name=op.f('pk_outbox_subjects'))
    )
    with op.batch_alter_table('outbox_subjects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_subjects_user_id'), ['user_id'], unique=False)
    _fill_subjects(op.get_bind())


def _fill_skeletons(connection):
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('nickname', sa.String),
                     sa.column('nickname_skeleton', sa.String))
    owners = {}
    updates = []
    for user_id, nickname in connection.execute(sa.select(users.c.id, users.c.nickname).order_by(users.c.id)):
        key = nickname_skeleton(nickname)
        if key in owners:
            log.warning("nickname_looks_like_another", user=user_id, nickname=nickname, like_user=owners[key][0],
                        like_nickname=owners[key][1])
            continue
        owners[key] = (user_id, nickname)
        updates.append({'user_id': user_id, 'key': key})
    for start in range(0, len(updates), 1000):
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(nickname_skeleton=sa.bindparam('key')),
            updates[start:start + 1000],
        )


def _fill_subjects(connection):
    outbox = sa.table('outbox_events', sa.column('position', sa.Integer), sa.column('event_id', sa.String),
                      sa.column('body', sa.Text))
    subjects = sa.table('outbox_subjects', sa.column('event_id', sa.String), sa.column('user_id', sa.Integer))
    after = 0
    while True:
        rows = connection.execute(sa.select(outbox.c.position, outbox.c.event_id, outbox.c.body)
                                  .where(outbox.c.position > after).order_by(outbox.c.position).limit(1000)).all()
        if not rows:
            return
        found = [{'event_id': row.event_id, 'user_id': user_id} for row in rows for user_id in _ids_in(row.body)]
        if found:
            connection.execute(subjects.insert(), found)
        after = rows[-1].position


def _ids_in(body):
    """The users an event's body names, read as JSON (as of this version's event types)."""
    try:
        data = json.loads(body).get('data') or {}
    except (ValueError, AttributeError):
        return set()
    ids = {data.get(name) for name in ('user_id', 'follower_id', 'followed_id')}
    ids |= {(data.get(name) or {}).get('user_id') for name in ('profile', 'followed')}
    ids.add((data.get('follower') or {}).get('id'))
    return {value for value in ids if isinstance(value, int) and not isinstance(value, bool)}


def downgrade():
    with op.batch_alter_table('outbox_subjects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_subjects_user_id'))
    op.drop_table('outbox_subjects')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('redaction')
    with op.batch_alter_table('rate_limits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limits_expires_at'))
    op.drop_table('rate_limits')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_nickname_skeleton'), type_='unique')
        batch_op.drop_column('show_last_seen')
        batch_op.drop_column('nickname_skeleton')
