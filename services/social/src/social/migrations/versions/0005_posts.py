"""posts: what users write, and the indexes the timelines read it by

The `posts` table is new and starts empty. Its two indexes serve the timelines' keyset pages:
(created_at, id) for everyone's posts, (author_id, created_at, id) for one user's and for home.

Revision ID: 0005_posts
Revises: 0004_announcements

"""
import sqlalchemy as sa
from alembic import op

import social.dbtypes

# revision identifiers, used by Alembic.
revision = '0005_posts'
down_revision = '0004_announcements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=280), nullable=False),
    sa.Column('created_at', social.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_posts_author_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_author_id_created_at_id', ['author_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_posts_created_at_id', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_created_at_id')
        batch_op.drop_index('ix_posts_author_id_created_at_id')
    op.drop_table('posts')
