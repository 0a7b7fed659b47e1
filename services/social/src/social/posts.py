"""Posts, as the Flask Mega-Tutorial has them: a few words by one user, shown on timelines.

Three timelines read the same table, newest first, a page at a time (:mod:`social.paging`): a
user's own (their profile), home (the people a user follows, and their own), and explore
(everyone's). Posts are social's alone: writing one sends no event and no mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from social.dbtypes import UTCDateTime, utcnow
from social.extensions import db
from social.models import Follow, User
from social.paging import Cursor, Page, newest_first

POST_MAX = 280


class EmptyPost(ValueError):
    """A post with nothing in it but blanks."""


class Post(db.Model):  # type: ignore[name-defined,misc]
    """One post. The timelines read it by (created_at, id), through the two indexes."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_created_at_id", "created_at", "id"),
        Index("ix_posts_author_id_created_at_id", "author_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(POST_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.id)


def write_post(author: User, body: str, *, now: datetime | None = None) -> Post:
    """Store and commit `author`'s post. The text is kept as written, less the blanks around it;
    the caller has checked its length and characters (the form's or the API's rules)."""
    text = body.strip()
    if not text:
        raise EmptyPost
    post = Post(author_id=author.id, body=text, created_at=now or utcnow())
    db.session.add(post)
    db.session.commit()
    return post


def user_posts(user: User, *, before: Cursor | None = None, after: Cursor | None = None,
               limit: int = 20) -> Page[tuple[Post, User]]:
    """`user`'s posts, newest first."""
    return _timeline(Post.author_id == user.id, before=before, after=after, limit=limit)


def home_timeline(user: User, *, before: Cursor | None = None, after: Cursor | None = None,
                  limit: int = 20) -> Page[tuple[Post, User]]:
    """The posts of the people `user` follows, and `user`'s own, newest first."""
    followed = select(Follow.followed_id).where(Follow.follower_id == user.id)
    return _timeline(or_(Post.author_id == user.id, Post.author_id.in_(followed)),
                     before=before, after=after, limit=limit)


def explore_timeline(*, before: Cursor | None = None, after: Cursor | None = None,
                     limit: int = 20) -> Page[tuple[Post, User]]:
    """Everyone's posts, newest first."""
    return _timeline(None, before=before, after=after, limit=limit)


def find_post(post_id: int) -> tuple[Post, User] | None:
    row = db.session.execute(select(Post, User).join(User, User.id == Post.author_id)
                             .where(Post.id == post_id)).first()
    return None if row is None else (row.Post, row.User)


def post_count(user: User) -> int:
    return int(db.session.scalar(select(func.count()).select_from(Post).where(Post.author_id == user.id)) or 0)


def _timeline(where: object, *, before: Cursor | None, after: Cursor | None,
              limit: int) -> Page[tuple[Post, User]]:
    query = select(Post, User).join(User, User.id == Post.author_id)
    if where is not None:
        query = query.where(where)  # type: ignore[arg-type]
    page = newest_first(query, Post.created_at, Post.id, key=lambda row: row.Post.cursor,
                        before=before, after=after, limit=limit)
    return Page([(row.Post, row.User) for row in page.items], older=page.older, newer=page.newer)
