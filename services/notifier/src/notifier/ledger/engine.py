"""What the ledger's table groups (gathering, announcements) share: their engine, its dialect's
upsert, and a transaction whose database errors leave as :class:`LedgerUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from microblog_plumbing.databases import database_error
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from notifier.errors import LedgerUnavailable


class SqlTables:
    """A group of the ledger's tables on `engine` (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if self._postgres else sqlite.insert

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerUnavailable(database_error(exc)) from None
