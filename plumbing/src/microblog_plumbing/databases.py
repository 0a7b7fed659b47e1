"""Database URLs as both services take them (SQLite or PostgreSQL), and the SQLite set-up they share."""

from __future__ import annotations

import os
from pathlib import Path

_SQLITE = "sqlite:///"


def check_database_url(url: str, example: str) -> str:
    """`url` if it is a SQLAlchemy URL for SQLite or PostgreSQL whose driver is installed, with a
    relative SQLite path made absolute (from the working directory); else ValueError saying why."""
    # SQLAlchemy is imported when a URL is checked, not with the settings: `--help` stays quick.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL (e.g. {example} or postgresql+psycopg://...)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"{parsed.get_backend_name()!r} is not supported: use SQLite or PostgreSQL")
    try:
        parsed.get_dialect()
    except Exception as exc:
        raise ValueError(f"no driver for {parsed.drivername!r} ({exc})") from None
    path = sqlite_path(url)
    if path is not None and not path.is_absolute():
        query = url.partition("?")[2]
        url = _SQLITE + str(path.resolve()) + (f"?{query}" if query else "")
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    if not url.startswith(_SQLITE):
        return None
    path = url.removeprefix(_SQLITE).partition("?")[0]
    return Path(path) if path and path != ":memory:" else None


def prepare_sqlite_file(url: str) -> None:
    """Make the folder of a SQLite file if it is missing, and the file readable by its owner
    only (it holds addresses): a database created by a later connect inherits nothing looser."""
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """For `sqlalchemy.event.listen(engine, "connect", ...)` on SQLite: WAL, so readers never
    wait for a writer and a commit is one append; NORMAL sync (at checkpoints); a patient lock wait."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def database_error(exc: BaseException) -> str:
    """A driver's error as one short line (SQLAlchemy wraps it; the driver's text is what helps)."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
