"""Rate limit counters in the project's own database, shared by every web worker and replica.

A `limits` storage (Flask-Limiter's counters) for the fixed-window strategy: one row per key with
its hits and the end of its window, bumped by one upsert (`INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`, on PostgreSQL and SQLite alike), so concurrent requests in any process count
exactly. Used unless `RATELIMIT_STORAGE_URL` names another storage (Redis).
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import sqlalchemy as sa
from limits.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from social.dbtypes import NAMING_CONVENTION

SCHEME = "social-database"
#: The engines storages were asked for, by the name their URI carries (see :func:`storage_uri`).
_engines: weakref.WeakValueDictionary[str, Engine] = weakref.WeakValueDictionary()

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    #: The end of the key's window, in seconds since the epoch.
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
)


def storage_uri(engine: Engine) -> str:
    """A storage URI for Flask-Limiter naming `engine`: counting shares the app's own connections.
    (Flask-Limiter keeps storage options across apps; a URI is each app's own.)"""
    name = str(id(engine))
    _engines[name] = engine
    return f"{SCHEME}://{name}"


class DatabaseStorage(Storage):
    """Counters in the `rate_limits` table of the engine its URI names."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        engine = _engines.get((uri or "").removeprefix(f"{SCHEME}://"))
        if engine is None:
            raise ValueError(f"{uri}: no such engine; make the URI with storage_uri(engine)")
        self._engine = engine
        dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
        self._insert = dialect.insert
        self._postgresql = engine.dialect.name == "postgresql"

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = self._insert(rate_limits).values(key=key, hits=amount, expires_at=now + expiry)
        expired = rate_limits.c.expires_at <= now
        upsert = insert.on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "hits": sa.case((expired, insert.excluded.hits), else_=rate_limits.c.hits + insert.excluded.hits),
                "expires_at": sa.case((expired, insert.excluded.expires_at), else_=rate_limits.c.expires_at),
            },
        ).returning(rate_limits.c.hits)
        with self._engine.begin() as conn:
            if self._postgresql:
                # A counter need not outlive a crash of the database: its commit does not wait for
                # the disk (the follow's own commit, right after, still does).
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            return int(conn.execute(upsert).scalar_one())

    def get(self, key: str) -> int:
        with self._engine.connect() as conn:
            hits = conn.scalar(sa.select(rate_limits.c.hits).where(
                rate_limits.c.key == key, rate_limits.c.expires_at > time.time()))
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        with self._engine.connect() as conn:
            expires = conn.scalar(sa.select(rate_limits.c.expires_at).where(rate_limits.c.key == key))
        return float(expires) if expires is not None else time.time()

    def check(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine.begin() as conn:
            return int(conn.execute(sa.delete(rate_limits)).rowcount)

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(rate_limits).where(rate_limits.c.key == key))


def prune_counters(engine: Engine) -> int:
    """Delete the counters whose window has ended; returns how many."""
    with engine.begin() as conn:
        return int(conn.execute(sa.delete(rate_limits).where(rate_limits.c.expires_at <= time.time())).rowcount)
