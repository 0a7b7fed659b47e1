"""The inbox's writes, in plain SQLAlchemy on the relay's engine: mail history and bounces.

Database errors get our names here: :class:`StoreUnavailable` (the database is away or busy:
try again later) and :class:`StoreRefused` (it will not take this: dead-letter the message).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from microblog_contracts import MailActivityEntry, MailBouncedData
from microblog_plumbing.databases import database_error
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from social.dbtypes import UTCDateTime
from social.mail.schema import HISTORY_KEPT, mail_history
from social.mail.state import BOUNCE_REPLY_MAX

#: The columns of `users` the inbox writes; the web app's model owns the table.
users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("email_confirmed_at", UTCDateTime),
    sa.column("email_bounced_at", UTCDateTime),
    sa.column("email_bounce_reply", sa.String),
)


class StoreUnavailable(Exception):
    """The database cannot be reached or is busy: the message is to be tried again later."""


class StoreRefused(Exception):
    """The database refuses what the message asks: trying again will not help."""


class InboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_activity(self, entries: Sequence[MailActivityEntry], *, now: datetime) -> int:
        """Upsert each entry of a known user into the mail history, keeping the latest word on
        each mail (an older copy changes nothing); returns how many were for known users."""
        fresh = [e for e in entries if e.user_id is not None and e.at > now - HISTORY_KEPT]
        with self._transaction() as conn:
            known = set(conn.scalars(sa.select(users.c.id).where(users.c.id.in_({e.user_id for e in fresh}))))
            rows = [_row(e) for e in fresh if e.user_id in known]
            if rows:
                conn.execute(self._upsert(), rows)
        return len(rows)

    def record_bounce(self, bounce: MailBouncedData) -> bool:
        """Mark the user's address as bouncing if it still is their address and they have not
        confirmed it since the bounce; True if a user was marked."""
        query = (
            sa.update(users)
            .where(users.c.email == bounce.address.lower())  # stored lower-cased (social.accounts)
            .where(sa.or_(users.c.email_confirmed_at.is_(None), users.c.email_confirmed_at < bounce.bounced_at))
            .where(sa.or_(users.c.email_bounced_at.is_(None), users.c.email_bounced_at < bounce.bounced_at))
            .values(email_bounced_at=bounce.bounced_at, email_bounce_reply=bounce.reply[:BOUNCE_REPLY_MAX])
        )
        if bounce.user_id is not None:
            query = query.where(users.c.id == bounce.user_id)
        with self._transaction() as conn:
            return bool(conn.execute(query).rowcount)

    def purge_history(self, *, now: datetime) -> int:
        """Delete the history older than users are shown; returns how many rows."""
        with self._transaction() as conn:
            return int(conn.execute(sa.delete(mail_history).where(mail_history.c.at < now - HISTORY_KEPT)).rowcount)

    def _upsert(self) -> sa.Insert:
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(mail_history)
        excluded = statement.excluded
        return statement.on_conflict_do_update(
            index_elements=[mail_history.c.id],
            set_={name: excluded[name] for name in ("kind", "event_id", "outcome", "reason", "at", "merged_into_at")},
            where=mail_history.c.at < excluded.at,
        )

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable(database_error(exc)) from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreUnavailable(database_error(exc)) from None
            raise StoreRefused(database_error(exc)) from None
        except SQLAlchemyError as exc:
            raise StoreRefused(database_error(exc)) from None


def _row(entry: MailActivityEntry) -> dict[str, object]:
    return {
        "id": entry.id, "user_id": entry.user_id, "kind": entry.kind, "event_id": entry.event_id,
        "outcome": entry.outcome.value, "reason": entry.reason, "at": entry.at, "merged_into_at": entry.merged_into_at,
    }
