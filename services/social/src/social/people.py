"""Finding people: by nickname (a prefix, whatever its case or width), everyone newest first, and
who among some users a user follows."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import or_, select

from social.accounts import nickname_key
from social.extensions import db
from social.models import Follow, User

SEARCH_MAX = 64


def search_keys(query: str) -> tuple[str, ...]:
    """The key prefixes a search for `query` matches: its NFKC form's (fullwidth `\uff53\uff55` is `su`,
    as sign-up stores it) and, for accounts from before that rule, its own; case-folded."""
    text = query.strip()[:SEARCH_MAX]
    keys = dict.fromkeys((nickname_key(unicodedata.normalize("NFKC", text)), nickname_key(text)))
    return tuple(key for key in keys if key and _could_be_a_key(key))


def search(query: str, *, after: str | None = None, limit: int = 20) -> tuple[list[User], str | None]:
    """Users whose nickname starts with `query`, by nickname; and the key to pass as `after` for
    the next page (None on the last)."""
    keys = search_keys(query)
    if not keys:
        return [], None
    statement = select(User).where(or_(*(User.nickname_key.like(_like_prefix(key), escape="\\") for key in keys)))
    if after and _could_be_a_key(after):
        statement = statement.where(User.nickname_key > after)
    found = list(db.session.scalars(statement.order_by(User.nickname_key).limit(limit + 1)))
    more = len(found) > limit
    return found[:limit], found[limit - 1].nickname_key if more else None


def everyone(*, before: int | None = None, limit: int = 20) -> tuple[list[User], int | None]:
    """Every user, newest first; and the id to pass as `before` for the next page."""
    statement = select(User)
    if before is not None:
        statement = statement.where(User.id < before)
    found = list(db.session.scalars(statement.order_by(User.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    return found[:limit], found[limit - 1].id if more else None


def followed_among(user: User, others: Iterable[User]) -> set[int]:
    """The ids of those of `others` whom `user` follows, in one query."""
    ids = [other.id for other in others]
    if not ids:
        return set()
    query = select(Follow.followed_id).where(Follow.follower_id == user.id, Follow.followed_id.in_(ids))
    return set(db.session.scalars(query))


def _could_be_a_key(text: str) -> bool:
    """No nickname has a control or format character; PostgreSQL refuses a NUL in any text, so a
    query with one matches nothing instead of failing."""
    return not any(unicodedata.category(char).startswith("C") for char in text)


def _like_prefix(key: str) -> str:
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
