"""Keyset pagination: pages that stay put while new rows arrive.

A page is asked for by where it starts, never by its number: `before` a cursor (older rows) or
`after` one (newer rows). A cursor is a row's place in the order, (`created_at`, `id`), so a post
written while someone reads page 3 lands on page 1 and does not push a row from page 3 onto
page 4. The cursor travels as an opaque text (:meth:`Cursor.encode`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from social.extensions import db

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class BadCursor(ValueError):
    """A cursor we did not make (cut short, edited, or from another list)."""


@dataclass(frozen=True, order=True)
class Cursor:
    """A row's place in a newest-first order."""

    at: datetime
    id: int

    def encode(self) -> str:
        micros = (self.at - _EPOCH) // _MICROSECOND
        return base64.urlsafe_b64encode(f"{micros}.{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
            micros, ident = (int(part) for part in text.split("."))
            return cls(_EPOCH + timedelta(microseconds=micros), ident)
        except (ValueError, binascii.Error, OverflowError, UnicodeDecodeError):
            raise BadCursor(raw) from None


@dataclass(frozen=True)
class Page(Generic[T]):
    """Some rows, newest first, and where the pages beside them start (None: there is none)."""

    items: list[T]
    older: Cursor | None
    newer: Cursor | None


def newest_first(
    query: Select[Any] | Any,
    at: InstrumentedAttribute[datetime],
    ident: InstrumentedAttribute[int],
    *,
    key: Callable[[Any], Cursor],
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int,
) -> Page[Any]:
    """One page of `query`'s rows ordered by (`at`, `ident`) descending: the newest `limit` ones
    `before` a cursor, or the oldest `limit` ones `after` one (shown newest first all the same).
    `key` reads a result row's cursor."""
    if after is not None:
        newer_rows = query.where(or_(at > after.at, and_(at == after.at, ident > after.id)))
        rows = _rows(newer_rows.order_by(at.asc(), ident.asc()).limit(limit + 1))
        more = len(rows) > limit
        items = list(reversed(rows[:limit]))
        return Page(items, older=key(items[-1]) if items else after, newer=key(items[0]) if more else None)
    if before is not None:
        query = query.where(or_(at < before.at, and_(at == before.at, ident < before.id)))
    rows = _rows(query.order_by(at.desc(), ident.desc()).limit(limit + 1))
    items = list(rows[:limit])
    older = key(items[-1]) if len(rows) > limit else None
    newer = key(items[0]) if before is not None and items else None
    return Page(items, older=older, newer=newer)


def _rows(query: Select[Any]) -> Sequence[Any]:
    return db.session.execute(query).all()
